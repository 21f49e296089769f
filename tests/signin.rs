//! Desktop sign-in: the `anyon://` handler, deep links handed between real processes, and the whole
//! Google sign-in against a real OpenID provider.

use std::time::Duration;

use serde_json::Value;

use crate::support::oidc::{self, OidcProvider};
use crate::support::{self, TempHome, anyon_bin};

#[cfg(all(unix, not(target_os = "macos")))]
#[test]
fn register_scheme_installs_the_link_handler() {
    let home = TempHome::new();
    let data = home.path().join("xdg-data");
    let config = home.path().join("xdg-config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("mimeapps.list"),
        "[Default Applications]\ntext/html=browser.desktop;\n",
    )
    .unwrap();
    let output = home
        .anyon_command(&["register-scheme", "--json"])
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", &data)
        .env("XDG_CONFIG_HOME", &config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let desktop = data.join("applications").join("anyon.desktop");
    assert_eq!(report["location"], desktop.display().to_string());

    let entry = std::fs::read_to_string(&desktop).unwrap();
    assert!(entry.starts_with("[Desktop Entry]\n"), "{entry}");
    assert!(entry.contains("MimeType=x-scheme-handler/anyon;\n"), "{entry}");
    let exec = entry.lines().find_map(|line| line.strip_prefix("Exec=")).unwrap();
    assert!(exec.ends_with(" open-url %u"), "{exec}");
    let exe = exec.trim_end_matches(" open-url %u").trim_matches('"');
    assert_eq!(
        std::fs::canonicalize(exe).unwrap(),
        std::fs::canonicalize(anyon_bin()).unwrap()
    );

    // xdg-mime (when installed) or ANYON itself records the default, keeping the other entries.
    let mimeapps = std::fs::read_to_string(config.join("mimeapps.list")).unwrap();
    assert!(mimeapps.contains("x-scheme-handler/anyon=anyon.desktop"), "{mimeapps}");
    assert!(mimeapps.contains("text/html=browser.desktop;"), "{mimeapps}");
}

/// An `anyon` child killed (and reaped) on drop, with its stderr read line by line.
#[cfg(unix)]
struct Child {
    child: std::process::Child,
    stderr: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

#[cfg(unix)]
impl Child {
    fn spawn(mut command: std::process::Command) -> Self {
        use std::io::BufRead;
        let mut child = command
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start anyon");
        let stderr = child.stderr.take().unwrap();
        let (lines, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stderr: rx,
            seen: Vec::new(),
        }
    }

    /// Waits for a stderr line that `matches`, returning it.
    fn line(&mut self, what: &str, matches: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if matches(&line) {
                        return line;
                    }
                }
                Err(_) => panic!("no {what} from anyon; its stderr so far:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// Waits for the process to end; its exit code and stdout.
    fn finish(mut self) -> (Option<i32>, String) {
        use std::io::Read;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "anyon did not finish; stderr:\n{}",
                self.seen.join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut stdout = String::new();
        self.child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
        while let Ok(line) = self.stderr.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(line);
        }
        (self.child.wait().unwrap().code(), stdout)
    }
}

#[cfg(unix)]
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The provider page `anyon auth login --no-browser` printed, for the test's user.
#[cfg(unix)]
fn authorize_url(login: &mut Child) -> String {
    let url = login.line("sign-in address", |line| line.starts_with("http"));
    format!("{url}&login_hint=verified%40example.test")
}

/// Plays the browser: through the provider to ANYON's callback; returns the page's `anyon://` link.
#[cfg(unix)]
fn browse(runtime: &tokio::runtime::Runtime, authorize: &str) -> String {
    let redirect = reqwest::Url::parse(authorize)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == "redirect_uri")
        .unwrap()
        .1
        .into_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    runtime.block_on(async {
        let callback = oidc::follow_to_callback(&http, authorize, &redirect).await;
        let page = http.get(&callback).send().await.unwrap();
        assert_eq!(page.status(), 200);
        oidc::page_link(&page.text().await.unwrap())
    })
}

#[cfg(unix)]
fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|error| panic!("{error}: {stdout:?}"))
}

#[cfg(unix)]
#[test]
fn a_second_process_hands_the_link_over_and_the_first_completes_the_sign_in() {
    let provider = OidcProvider::start();
    let runtime = support::runtime();
    let server_home = TempHome::new();
    let server = provider.auth_server(&runtime, &server_home);
    let server_url = format!("http://{}", server.addr());

    let home = TempHome::new();
    let anyon = |args: &[&str]| {
        let mut command = home.anyon_command(args);
        command
            .env("ANYON_AUTH_URL", &server_url)
            .env("ANYON_SECRET_STORE", "file");
        command
    };
    let mut login = Child::spawn(anyon(&["auth", "login", "--json", "--no-browser", "--timeout", "120"]));
    let authorize = authorize_url(&mut login);
    let link = browse(&runtime, &authorize);

    // A forged link reaches the waiting process and is ignored; the real one completes the sign-in.
    let forged = anyon(&["open-url", "anyon://auth/callback?code=forged&state=forged"])
        .output()
        .unwrap();
    assert_eq!(
        forged.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&forged.stderr)
    );
    login.line("the forged link refused", |line| line.contains("Ignored a link"));
    let handed = anyon(&["open-url", &link]).output().unwrap();
    assert_eq!(
        handed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&handed.stderr)
    );
    let (code, stdout) = login.finish();
    assert_eq!(code, Some(0), "{stdout}");
    let signed_in = json(&stdout);
    assert_eq!(signed_in["state"], "signed_in", "{signed_in}");
    assert_eq!(signed_in["user"]["email"], "verified@example.test");
    assert_eq!(signed_in["user"]["subscription"]["plan"], "free");
    assert!(
        signed_in["token_storage"].as_str().unwrap().starts_with("file "),
        "{signed_in}"
    );

    // The token sits in the owner-only fallback file, and a later start finds it.
    let secrets = home.path().join("secrets.json");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777, 0o600);
    let token = json(&std::fs::read_to_string(&secrets).unwrap())["anyon-auth-token"]
        .as_str()
        .unwrap()
        .to_owned();
    let status = anyon(&["auth", "status", "--json"]).output().unwrap();
    assert_eq!(
        json(&String::from_utf8_lossy(&status.stdout))["user"]["sub"],
        "user-verified"
    );

    // Signing out revokes the token at the server and forgets it here.
    let logout = anyon(&["auth", "logout", "--json"]).output().unwrap();
    assert_eq!(json(&String::from_utf8_lossy(&logout.stdout))["state"], "signed_out");
    let me = runtime.block_on(async {
        reqwest::Client::new()
            .get(format!("{server_url}/auth/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(me, 401);
    let status = anyon(&["auth", "status", "--json"]).output().unwrap();
    assert_eq!(json(&String::from_utf8_lossy(&status.stdout))["state"], "signed_out");

    // The used link does not sign a later attempt in.
    let mut again = Child::spawn(anyon(&["auth", "login", "--json", "--no-browser", "--timeout", "120"]));
    authorize_url(&mut again);
    let replay = anyon(&["open-url", &link]).output().unwrap();
    assert_eq!(replay.status.code(), Some(0));
    again.line("the replayed link refused", |line| line.contains("Ignored a link"));
    runtime.block_on(server.shutdown());
}

#[cfg(unix)]
#[test]
fn the_embedded_server_completes_a_sign_in_without_the_link_handler() {
    let provider = OidcProvider::start();
    let runtime = support::runtime();
    let home = TempHome::new();
    let mut command = home.anyon_command(&["auth", "login", "--json", "--no-browser", "--timeout", "120"]);
    command
        .env_remove("ANYON_AUTH_URL")
        .env("ANYON_AUTH_PORT", "0")
        .env("ANYON_SECRET_STORE", "file")
        .env("GOOGLE_AUTH_URL", &provider.auth_url)
        .env("GOOGLE_TOKEN_URL", &provider.token_url)
        .env("GOOGLE_USERINFO_URL", &provider.userinfo_url)
        .env("GOOGLE_CLIENT_ID", oidc::CLIENT_ID)
        .env("GOOGLE_CLIENT_SECRET", oidc::CLIENT_SECRET);
    let mut login = Child::spawn(command);
    let authorize = authorize_url(&mut login);
    // Only the browser's visit to the callback: no `anyon open-url`.
    browse(&runtime, &authorize);
    let (code, stdout) = login.finish();
    assert_eq!(code, Some(0), "{stdout}");
    let signed_in = json(&stdout);
    assert_eq!(signed_in["state"], "signed_in", "{signed_in}");
    assert_eq!(signed_in["user"]["name"], "Vera <Verified> & Co");
}
