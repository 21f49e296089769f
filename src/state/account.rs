//! The ANYON account as the Account screen and the status bar show it.

use crate::backend::command::RequestId;
use crate::domain::signin::AccountView;
use crate::domain::signin::requests::Reply;

/// Commands whose results this store shows.
const COMMANDS: [&str; 5] = [
    "account_status",
    "sign_in_start",
    "sign_in_cancel",
    "sign_in_link",
    "sign_out",
];

#[derive(Default)]
pub struct AccountStore {
    pub view: AccountView,
    /// The account step in flight (its button shows a spinner).
    pub busy: Option<RequestId>,
    /// The last step's failure, shown on the screen until the next step.
    pub error: Option<String>,
    /// Whether the saved sign-in was checked since start.
    pub checked: bool,
    /// The person's picture (its address and the image), once fetched.
    pub picture: Option<(String, std::sync::Arc<egui::ColorImage>)>,
    /// The picture on the GPU, made on first draw.
    pub picture_texture: Option<egui::TextureHandle>,
}

impl std::fmt::Debug for AccountStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountStore")
            .field("view", &self.view)
            .field("busy", &self.busy)
            .field("error", &self.error)
            .field("checked", &self.checked)
            .field("picture", &self.picture.as_ref().map(|(url, _)| url))
            .finish_non_exhaustive()
    }
}

impl AccountStore {
    /// Marks `request_id` as the step in flight.
    pub fn started(&mut self, request_id: RequestId) {
        self.busy = Some(request_id);
        self.error = None;
    }

    pub fn apply_output(&mut self, request_id: RequestId, output: &Reply) -> bool {
        let view = match output {
            Reply::Account(view) | Reply::Linked(Some(view)) => view,
            // A link already redeemed: the account it signed in is shown already.
            Reply::Linked(None) => return false,
        };
        if self.busy == Some(request_id) {
            self.busy = None;
        }
        self.view = view.clone();
        self.error = None;
        self.checked = true;
        true
    }

    pub fn apply_failure(&mut self, command: &str, request_id: RequestId, error: &str) -> bool {
        if !COMMANDS.contains(&command) {
            return false;
        }
        if self.busy == Some(request_id) {
            self.busy = None;
        }
        self.checked = true;
        self.error = Some(error.to_owned());
        true
    }

    /// A fetched picture, kept while it belongs to the signed-in person.
    pub fn apply_picture(&mut self, url: String, image: std::sync::Arc<egui::ColorImage>) {
        let current = match &self.view {
            AccountView::SignedIn { user, .. } => user.picture.as_deref(),
            _ => None,
        };
        if current == Some(url.as_str()) {
            self.picture = Some((url, image));
            self.picture_texture = None;
        }
    }

    /// The picture to draw for the signed-in person, if it has arrived.
    pub fn picture(&mut self, ctx: &egui::Context) -> Option<&egui::TextureHandle> {
        let AccountView::SignedIn { user, .. } = &self.view else {
            return None;
        };
        let (url, image) = self
            .picture
            .as_ref()
            .filter(|(url, _)| user.picture.as_deref() == Some(url))?;
        if self.picture_texture.is_none() {
            let texture = ctx.load_texture(format!("account-picture:{url}"), (**image).clone(), Default::default());
            self.picture_texture = Some(texture);
        }
        self.picture_texture.as_ref()
    }

    /// The name for the status bar, when signed in.
    pub fn signed_in_as(&self) -> Option<&str> {
        match &self.view {
            AccountView::SignedIn { user, .. } => Some(user.display_name()),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::domain::signin::Profile;

    #[test]
    fn results_and_failures_of_account_steps_land_here() {
        let mut store = AccountStore::default();
        store.started(4);
        assert!(!store.apply_failure("list_agents", 4, "no"));
        assert!(store.apply_failure("sign_in_link", 4, "this link belongs to a different sign-in"));
        assert_eq!(store.busy, None);
        assert!(store.error.as_deref().unwrap().contains("different sign-in"));
        let view = AccountView::SignedIn {
            user: Profile {
                sub: "1".into(),
                email: "ada@example.test".into(),
                name: Some("Ada".into()),
                picture: None,
                subscription: None,
            },
            server: "http://127.0.0.1:4000".into(),
            token_storage: "OS keychain".into(),
        };
        assert!(store.apply_output(5, &Reply::Account(view)));
        assert_eq!(store.signed_in_as(), Some("Ada"));
        assert_eq!(store.error, None);
    }

    #[test]
    fn a_picture_is_kept_only_for_the_person_signed_in() {
        let mut store = AccountStore::default();
        let image = std::sync::Arc::new(egui::ColorImage::filled([2, 2], egui::Color32::RED));
        store.apply_picture("https://example.test/a.png".into(), image.clone());
        assert!(store.picture.is_none(), "nobody is signed in");
        store.view = AccountView::SignedIn {
            user: Profile {
                sub: "1".into(),
                email: "ada@example.test".into(),
                name: None,
                picture: Some("https://example.test/a.png".into()),
                subscription: None,
            },
            server: String::new(),
            token_storage: String::new(),
        };
        store.apply_picture("https://example.test/other.png".into(), image.clone());
        assert!(store.picture.is_none(), "someone else's picture");
        store.apply_picture("https://example.test/a.png".into(), image);
        let ctx = egui::Context::default();
        assert_eq!(store.picture(&ctx).map(|texture| texture.size()), Some([2, 2]));
        store.view = AccountView::default();
        assert!(store.picture(&ctx).is_none(), "not after signing out");
    }
}
