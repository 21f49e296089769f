//! Paging through one table or view, and editing its rows by key.

use std::time::Instant;

use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde::{Deserialize, Serialize};

use super::{SqlValue, StorageError, quote_identifier, read_row};

/// The most rows one page may hold, whatever the caller asks: memory stays bounded.
pub const MAX_PAGE_ROWS: u32 = 1000;

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnInfo {
    pub name: String,
    pub decl_type: String,
    pub not_null: bool,
    pub default: Option<String>,
    /// Position in the primary key (1-based), 0 when not part of it.
    pub primary_key: u32,
}

/// A table's or view's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableSchema {
    pub name: String,
    /// `table` or `view`.
    pub kind: String,
    pub columns: Vec<ColumnInfo>,
    pub without_rowid: bool,
    pub create_sql: Option<String>,
    pub indexes: Vec<String>,
}

impl TableSchema {
    /// The name under which rows are addressed by rowid, if the table has one and no column hides it.
    fn rowid_alias(&self) -> Option<&'static str> {
        if self.kind != "table" || self.without_rowid {
            return None;
        }
        ["rowid", "_rowid_", "oid"]
            .into_iter()
            .find(|alias| !self.columns.iter().any(|c| c.name.eq_ignore_ascii_case(alias)))
    }

    /// Primary-key columns in key order.
    fn key_columns(&self) -> Vec<&str> {
        let mut keyed: Vec<&ColumnInfo> = self.columns.iter().filter(|c| c.primary_key > 0).collect();
        keyed.sort_by_key(|c| c.primary_key);
        keyed.into_iter().map(|c| c.name.as_str()).collect()
    }

    fn has_column(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c.name == name)
    }
}

/// How one row is found again for an edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum RowKey {
    RowId(i64),
    /// Primary-key column values (WITHOUT ROWID tables).
    PrimaryKey(Vec<KeyPart>),
}

/// One primary-key column and its value, as they travel in a [`RowKey`].
pub type KeyPart = (String, KeyValue);

/// A key cell (NULL cannot be part of a WITHOUT ROWID key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeyValue {
    Integer(i64),
    Real(f64),
    Text(String),
}

impl KeyValue {
    fn from_sql(value: &SqlValue) -> Option<Self> {
        match value {
            SqlValue::Integer(v) => Some(KeyValue::Integer(*v)),
            SqlValue::Real(v) => Some(KeyValue::Real(*v)),
            SqlValue::Text(v) => Some(KeyValue::Text(v.clone())),
            SqlValue::Null | SqlValue::Blob(_) => None,
        }
    }

    fn to_sql_value(&self) -> SqlValue {
        match self {
            KeyValue::Integer(v) => SqlValue::Integer(*v),
            KeyValue::Real(v) => SqlValue::Real(*v),
            KeyValue::Text(v) => SqlValue::Text(v.clone()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortOrder {
    Ascending,
    Descending,
}

/// Which rows of a table to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub table: String,
    pub offset: u64,
    pub limit: u32,
    /// Column to sort by.
    pub sort: Option<(String, SortOrder)>,
    /// Rows whose text in any column contains this (case-insensitive for ASCII).
    pub filter: Option<String>,
}

/// One page of a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TablePage {
    pub table: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<SqlValue>>,
    /// One key per row when the rows can be edited (tables), else empty (views).
    pub keys: Vec<RowKey>,
    pub offset: u64,
    /// Rows matching the filter in the whole table.
    pub total_rows: u64,
    pub elapsed_ms: f64,
}

/// Reads the shape of `table`.
pub fn table_schema(conn: &Connection, table: &str) -> Result<TableSchema, StorageError> {
    let found: Option<(String, Option<String>)> = conn
        .query_row(
            "SELECT type, sql FROM sqlite_schema WHERE name = ?1 AND type IN ('table', 'view')",
            [table],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((kind, create_sql)) = found else {
        return Err(StorageError::NoSuchTable(table.to_owned()));
    };
    let mut stmt = conn.prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)")?;
    let columns = stmt
        .query_map([table], |row| {
            Ok(ColumnInfo {
                name: row.get(0)?,
                decl_type: row.get(1)?,
                not_null: row.get::<_, i64>(2)? != 0,
                default: row.get(3)?,
                primary_key: row.get::<_, i64>(4)?.max(0) as u32,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut stmt = conn.prepare(
        "SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL ORDER BY name",
    )?;
    let indexes = stmt
        .query_map([table], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    // Whitespace-normalised so that "WITHOUT\n  ROWID" is found too.
    let without_rowid = create_sql.as_deref().is_some_and(|sql| {
        sql.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_uppercase()
            .contains("WITHOUT ROWID")
    });
    Ok(TableSchema {
        name: table.to_owned(),
        kind,
        columns,
        without_rowid,
        create_sql,
        indexes,
    })
}

/// Reads one page. The filter and sort are checked against the table's columns and bound as
/// parameters; identifiers are quoted, so no request can inject SQL.
pub fn read_page(conn: &Connection, request: &PageRequest) -> Result<TablePage, StorageError> {
    let started = Instant::now();
    let schema = table_schema(conn, &request.table)?;
    let table = quote_identifier(&schema.name);
    let filter = request.filter.as_deref().map(str::trim).filter(|f| !f.is_empty());
    let (where_sql, filter_params) = match filter {
        Some(text) => {
            let pattern = format!(
                "%{}%",
                text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
            );
            let tests: Vec<String> = schema
                .columns
                .iter()
                .map(|c| format!("CAST({} AS TEXT) LIKE ?1 ESCAPE '\\'", quote_identifier(&c.name)))
                .collect();
            (format!(" WHERE {}", tests.join(" OR ")), vec![pattern])
        }
        None => (String::new(), Vec::new()),
    };
    let order_sql = match &request.sort {
        Some((column, order)) => {
            if !schema.has_column(column) {
                return Err(StorageError::Invalid(format!(
                    "{} has no column {column:?}",
                    schema.name
                )));
            }
            let direction = if *order == SortOrder::Descending { "DESC" } else { "ASC" };
            format!(" ORDER BY {} {direction}", quote_identifier(column))
        }
        None => String::new(),
    };
    let rowid = schema.rowid_alias();
    let key_columns = schema.key_columns();
    let key_sql = match rowid {
        Some(alias) => format!("{alias}, "),
        None => String::new(),
    };
    let limit = request.limit.clamp(1, MAX_PAGE_ROWS);
    let sql = format!(
        "SELECT {key_sql}* FROM {table}{where_sql}{order_sql} LIMIT {limit} OFFSET {}",
        request.offset
    );
    let mut stmt = conn.prepare(&sql)?;
    let skip = usize::from(rowid.is_some());
    let columns: Vec<String> = stmt.column_names().skip(skip).map(str::to_owned).collect();
    let width = columns.len() + skip;
    let mut rows = Vec::with_capacity(limit as usize);
    let mut keys = Vec::with_capacity(limit as usize);
    let mut cursor = stmt.query(params_from_iter(filter_params.iter()))?;
    while let Some(row) = cursor.next()? {
        let mut cells = read_row(row, width)?;
        let key = match (rowid, cells.first()) {
            (Some(_), Some(SqlValue::Integer(id))) => Some(RowKey::RowId(*id)),
            (Some(_), _) => None,
            (None, _) if schema.kind == "table" && !key_columns.is_empty() => {
                let values: Option<Vec<KeyPart>> = key_columns
                    .iter()
                    .map(|name| {
                        let index = columns.iter().position(|c| c == name)?;
                        Some(((*name).to_owned(), KeyValue::from_sql(&cells[index])?))
                    })
                    .collect();
                values.map(RowKey::PrimaryKey)
            }
            (None, _) => None,
        };
        if skip == 1 {
            cells.remove(0);
        }
        if let Some(key) = key {
            keys.push(key);
        }
        rows.push(cells);
    }
    // Keys only make sense when every row has one.
    if keys.len() != rows.len() {
        keys.clear();
    }
    let count_sql = format!("SELECT count(*) FROM {table}{where_sql}");
    let total: i64 = conn.query_row(&count_sql, params_from_iter(filter_params.iter()), |row| row.get(0))?;
    Ok(TablePage {
        table: schema.name,
        columns,
        rows,
        keys,
        offset: request.offset,
        total_rows: total.max(0) as u64,
        elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

/// The WHERE clause and parameters that find one row.
fn key_condition(schema: &TableSchema, key: &RowKey) -> Result<(String, Vec<SqlValue>), StorageError> {
    match key {
        RowKey::RowId(id) => {
            let alias = schema
                .rowid_alias()
                .ok_or_else(|| StorageError::Invalid(format!("{} has no rowid to address rows by", schema.name)))?;
            Ok((format!("{alias} = ?"), vec![SqlValue::Integer(*id)]))
        }
        RowKey::PrimaryKey(values) => {
            if values.is_empty() {
                return Err(StorageError::Invalid("an empty row key".into()));
            }
            let mut parts = Vec::new();
            let mut params = Vec::new();
            for (column, value) in values {
                if !schema.has_column(column) {
                    return Err(StorageError::Invalid(format!(
                        "{} has no column {column:?}",
                        schema.name
                    )));
                }
                parts.push(format!("{} = ?", quote_identifier(column)));
                params.push(value.to_sql_value());
            }
            Ok((parts.join(" AND "), params))
        }
    }
}

/// Renders a statement with its parameters inlined, for the confirmation the person reads.
fn inline(sql: &str, params: &[SqlValue]) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut params = params.iter();
    for piece in sql.split('?').enumerate() {
        if piece.0 > 0 {
            out.push_str(
                &params
                    .next()
                    .map(SqlValue::to_sql_literal)
                    .unwrap_or_else(|| "?".into()),
            );
        }
        out.push_str(piece.1);
    }
    out
}

/// Sets one cell. Returns the statement as the person should see it; with `dry_run` nothing runs.
pub fn update_cell(
    conn: &Connection,
    table: &str,
    key: &RowKey,
    column: &str,
    value: &SqlValue,
    dry_run: bool,
) -> Result<String, StorageError> {
    let schema = table_schema(conn, table)?;
    if schema.kind != "table" {
        return Err(StorageError::Invalid(format!(
            "{table} is a view; its rows cannot be edited"
        )));
    }
    if !schema.has_column(column) {
        return Err(StorageError::Invalid(format!("{table} has no column {column:?}")));
    }
    let (condition, key_params) = key_condition(&schema, key)?;
    let sql = format!(
        "UPDATE {} SET {} = ? WHERE {condition}",
        quote_identifier(table),
        quote_identifier(column)
    );
    let mut params = vec![value.clone()];
    params.extend(key_params);
    let shown = inline(&sql, &params);
    if !dry_run {
        let changed = conn.execute(&sql, params_from_iter(params.iter()))?;
        if changed != 1 {
            return Err(StorageError::Invalid(format!(
                "the row was not found (changed {changed} rows)"
            )));
        }
    }
    Ok(shown)
}

/// Deletes one row. Returns the statement as the person should see it; with `dry_run` nothing runs.
pub fn delete_row(conn: &Connection, table: &str, key: &RowKey, dry_run: bool) -> Result<String, StorageError> {
    let schema = table_schema(conn, table)?;
    if schema.kind != "table" {
        return Err(StorageError::Invalid(format!(
            "{table} is a view; its rows cannot be deleted"
        )));
    }
    let (condition, params) = key_condition(&schema, key)?;
    let sql = format!("DELETE FROM {} WHERE {condition}", quote_identifier(table));
    let shown = inline(&sql, &params);
    if !dry_run {
        let changed = conn.execute(&sql, params_from_iter(params.iter()))?;
        if changed != 1 {
            return Err(StorageError::Invalid(format!(
                "the row was not found (deleted {changed} rows)"
            )));
        }
    }
    Ok(shown)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT DEFAULT 'x');
             INSERT INTO people (name, note) VALUES ('Ada', 'math'), ('Brian', NULL), ('Cleo', '50% off'), ('Dan', 'a_b');
             CREATE TABLE pairs (a TEXT, b INTEGER, v TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;
             INSERT INTO pairs VALUES ('k', 1, 'one'), ('k', 2, 'two');
             CREATE VIEW names AS SELECT name FROM people;",
        )
        .unwrap();
        conn
    }

    fn request(table: &str) -> PageRequest {
        PageRequest {
            table: table.into(),
            offset: 0,
            limit: 2,
            sort: None,
            filter: None,
        }
    }

    #[test]
    fn pages_sort_and_filter() {
        let conn = db();
        let page = read_page(&conn, &request("people")).unwrap();
        assert_eq!(page.columns, ["id", "name", "note"]);
        assert_eq!((page.rows.len(), page.total_rows), (2, 4));
        assert_eq!(page.keys, vec![RowKey::RowId(1), RowKey::RowId(2)]);
        let sorted = read_page(
            &conn,
            &PageRequest {
                sort: Some(("name".into(), SortOrder::Descending)),
                offset: 1,
                ..request("people")
            },
        )
        .unwrap();
        assert_eq!(sorted.rows[0][1], SqlValue::Text("Cleo".into()));
        let filtered = read_page(
            &conn,
            &PageRequest {
                filter: Some("%".into()),
                ..request("people")
            },
        )
        .unwrap();
        assert_eq!(filtered.total_rows, 1, "wildcards in the filter are literal");
        let filtered = read_page(
            &conn,
            &PageRequest {
                filter: Some("_".into()),
                ..request("people")
            },
        )
        .unwrap();
        assert_eq!(filtered.total_rows, 1);
        let filtered = read_page(
            &conn,
            &PageRequest {
                filter: Some("ADA".into()),
                ..request("people")
            },
        )
        .unwrap();
        assert_eq!(filtered.total_rows, 1, "ASCII case is ignored");
    }

    #[test]
    fn bad_requests_are_refused() {
        let conn = db();
        let error = read_page(&conn, &request("nope")).unwrap_err();
        assert!(matches!(error, StorageError::NoSuchTable(_)));
        let injected = PageRequest {
            sort: Some(("name; DROP TABLE people".into(), SortOrder::Ascending)),
            ..request("people")
        };
        assert!(matches!(read_page(&conn, &injected), Err(StorageError::Invalid(_))));
        assert_eq!(read_page(&conn, &request("people")).unwrap().total_rows, 4);
    }

    #[test]
    fn views_page_without_keys() {
        let page = read_page(&db(), &request("names")).unwrap();
        assert_eq!(page.rows.len(), 2);
        assert!(page.keys.is_empty());
    }

    #[test]
    fn cells_are_edited_and_rows_deleted_by_key() {
        let conn = db();
        let shown = update_cell(
            &conn,
            "people",
            &RowKey::RowId(2),
            "note",
            &SqlValue::Text("it's".into()),
            true,
        )
        .unwrap();
        assert_eq!(shown, "UPDATE \"people\" SET \"note\" = 'it''s' WHERE rowid = 2");
        let unchanged: Option<String> = conn
            .query_row("SELECT note FROM people WHERE id = 2", [], |r| r.get(0))
            .unwrap();
        assert_eq!(unchanged, None, "a dry run changes nothing");
        update_cell(
            &conn,
            "people",
            &RowKey::RowId(2),
            "note",
            &SqlValue::Text("it's".into()),
            false,
        )
        .unwrap();
        let note: String = conn
            .query_row("SELECT note FROM people WHERE id = 2", [], |r| r.get(0))
            .unwrap();
        assert_eq!(note, "it's");

        let page = read_page(&conn, &request("pairs")).unwrap();
        let second = page.keys[1].clone();
        assert_eq!(
            second,
            RowKey::PrimaryKey(vec![
                ("a".into(), KeyValue::Text("k".into())),
                ("b".into(), KeyValue::Integer(2))
            ])
        );
        let shown = delete_row(&conn, "pairs", &second, false).unwrap();
        assert_eq!(shown, "DELETE FROM \"pairs\" WHERE \"a\" = 'k' AND \"b\" = 2");
        assert_eq!(read_page(&conn, &request("pairs")).unwrap().total_rows, 1);
        assert!(
            matches!(
                delete_row(&conn, "pairs", &second, false),
                Err(StorageError::Invalid(_))
            ),
            "gone rows are reported"
        );
        assert!(matches!(
            delete_row(&conn, "names", &RowKey::RowId(1), false),
            Err(StorageError::Invalid(_))
        ));
    }

    #[test]
    fn schema_describes_columns_and_keys() {
        let schema = table_schema(&db(), "pairs").unwrap();
        assert!(schema.without_rowid);
        assert_eq!(schema.key_columns(), ["a", "b"]);
        let people = table_schema(&db(), "people").unwrap();
        assert_eq!(people.columns[2].default.as_deref(), Some("'x'"));
        assert!(people.columns[1].not_null);
        assert_eq!(people.rowid_alias(), Some("rowid"));
    }
}
