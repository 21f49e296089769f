//! The Account screen's sign-in in the real window (headless): waiting for the browser, the link
//! arriving as `anyon open-url` delivers it, the signed-in person with their plan, and sign-out.

use anyon::app::StartOptions;
use anyon::domain::secrets::{SecretStore, StoreMode};
use anyon::state::handover::{self, Handover};
use anyon::state::nav::Screen;

use crate::support::oidc::{self, OidcProvider};
use crate::support::ui::{self, click, settle, shows};
use crate::support::{self, TempHome};
use anyon::domain::signin::requests::SignInStart;

#[test]
fn account_screen_signs_in_through_a_deep_link_and_out_again() {
    let provider = OidcProvider::start();
    let runtime = support::runtime();
    let server_home = TempHome::new();
    let server = provider.auth_server(&runtime, &server_home);

    let home = TempHome::new();
    let (backend, events) = support::backend(&runtime, &home);
    backend.set_secret_store(SecretStore::new(home.path(), StoreMode::FileOnly));
    backend.set_auth_server(&format!("http://{}", server.addr()));
    // The sign-in the "Sign in with Google" button starts, without a browser opening in a test.
    let Ok(anyon::domain::signin::AccountView::Waiting { url }) =
        runtime.block_on(backend.call(SignInStart { open_browser: false }))
    else {
        panic!("the sign-in did not start");
    };

    let for_app = backend.clone();
    let (handovers, inbox) = handover::channel();
    let options = StartOptions {
        screen: Some(Screen::Account),
        handovers: Some(inbox),
        ..StartOptions::default()
    };
    let mut harness = ui::window_with(for_app, events, options, egui::vec2(1200.0, 800.0));
    settle(&mut harness, "the waiting state", "Finish signing in in your browser");
    assert!(shows(&harness, "Cancel"));

    // The browser: through the provider to the callback page, whose link `anyon open-url` hands over.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let authorize = format!("{url}&login_hint=verified%40example.test");
    let callback = format!("http://{}/auth/google/callback", server.addr());
    let link = runtime.block_on(async {
        let page = oidc::follow_to_callback(&http, &authorize, &callback).await;
        oidc::page_link(&http.get(page).send().await.unwrap().text().await.unwrap())
    });
    // What `anyon open-url LINK` hands over, read by the same parser.
    let cli = <anyon::cli::Cli as clap::Parser>::try_parse_from(["anyon", "open-url", &link]).unwrap();
    assert_eq!(cli.handover(), Handover::sign_in_link(link.clone()));
    assert!(handovers.deliver(cli.handover()));
    settle(&mut harness, "the signed-in person", "verified@example.test");
    assert!(shows(&harness, "Vera <Verified> & Co"));
    assert!(shows(&harness, "free"), "the plan shows");
    assert!(shows(&harness, "Token kept in"));
    assert!(
        shows(&harness, "Signed in as Vera"),
        "the status bar says who is signed in"
    );
    let kept = std::fs::read_to_string(home.path().join("secrets.json")).unwrap();
    assert!(kept.contains("anyon-auth-token"), "the token is kept");

    click(&mut harness, "Sign out");
    settle(&mut harness, "the signed-out state", "Sign in with Google");
    assert!(shows(&harness, "Not signed in"));
    let kept = std::fs::read_to_string(home.path().join("secrets.json")).unwrap_or_default();
    assert!(!kept.contains("anyon-auth-token"), "the token is forgotten: {kept}");
    runtime.block_on(server.shutdown());
}
