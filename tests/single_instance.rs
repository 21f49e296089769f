//! Single instance across real processes: a second `anyon` hands its request over and exits 0.

use std::time::Duration;

use anyon::domain::instance::{self, Claim};
use anyon::state::handover::{self, Handover};
use anyon::state::nav::Screen;

use crate::support::{self, TempHome};

#[cfg(unix)]
#[test]
fn a_second_process_forwards_its_arguments_and_exits() {
    let home = TempHome::new();
    let runtime = support::runtime();
    let Claim::Primary(listener) = instance::claim(&home.paths(), &Handover::default()).unwrap() else {
        panic!("the test process should be the first instance");
    };
    let (handovers, mut inbox) = handover::channel();
    let deliver: instance::Deliver<Handover> = std::sync::Arc::new(move |handover| {
        handovers.deliver(handover);
    });
    let _guard = listener.serve(runtime.handle(), deliver).unwrap();

    // No display is set: the second process must not try to open a window, only forward.
    let output = home.anyon(&["--screen", "usage"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let received = support::wait_for("the handover", Duration::from_secs(10), || inbox.try_recv());
    assert_eq!(
        received,
        Handover {
            screen: Some(Screen::Usage),
            action: None
        }
    );
}

#[cfg(unix)]
#[test]
fn without_a_running_instance_the_window_is_attempted_and_fails_clearly_without_a_display() {
    let home = TempHome::new();
    let output = home.anyon(&[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot open the window"), "{stderr}");
    assert!(
        !instance::socket_path(&home.paths()).unwrap().exists(),
        "the socket is removed on exit"
    );
}

/// A folder only this user may use, as `$XDG_RUNTIME_DIR` is.
#[cfg(unix)]
fn runtime_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new().prefix("anyon-runtime").tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

#[cfg(unix)]
#[test]
fn the_socket_lives_in_xdg_runtime_dir_when_it_is_set() {
    let home = TempHome::new();
    let runtime_dir = runtime_dir();
    let runtime = support::runtime();
    let path = instance::socket_path_in(&home.paths(), Some(runtime_dir.path().as_os_str())).unwrap();
    assert_eq!(path.parent(), Some(runtime_dir.path()));
    let Claim::Primary(listener) = instance::claim_at(&path, &Handover::default()).unwrap() else {
        panic!("the test process should be the first instance");
    };
    let (handovers, mut inbox) = handover::channel();
    let deliver: instance::Deliver<Handover> = std::sync::Arc::new(move |handover| {
        handovers.deliver(handover);
    });
    let guard = listener.serve(runtime.handle(), deliver).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the socket is the owner's only: {mode:o}");
    }
    assert!(!home.path().join("anyon.sock").exists());

    // A second `anyon` with the same XDG_RUNTIME_DIR finds the instance there and hands over.
    let output = home
        .anyon_command(&["--screen", "usage"])
        .env("XDG_RUNTIME_DIR", runtime_dir.path())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let received = support::wait_for("the handover", Duration::from_secs(10), || inbox.try_recv());
    assert_eq!(received.screen, Some(Screen::Usage));
    drop(guard);
    assert!(!path.exists(), "the socket is removed when the instance ends");
}

/// Whether this test runs as root, which the ownership tests need (to give files to another user).
#[cfg(unix)]
fn root() -> bool {
    instance::effective_uid() == 0
}

/// An unprivileged user id for the ownership tests (`nobody` on most systems).
#[cfg(unix)]
const OTHER_UID: u32 = 65534;

#[cfg(unix)]
#[test]
fn a_socket_owned_by_another_user_is_not_forwarded_to() {
    if !root() {
        crate::support::skip(
            "a_socket_owned_by_another_user_is_not_forwarded_to",
            "changing a socket's owner needs root",
        );
        return;
    }
    let runtime_dir = runtime_dir();
    let path = runtime_dir.path().join("anyon-test.sock");
    let squatter = std::os::unix::net::UnixListener::bind(&path).unwrap();
    squatter.set_nonblocking(true).unwrap();
    std::os::unix::fs::chown(&path, Some(OTHER_UID), None).unwrap();
    let link = Handover::sign_in_link("anyon://auth/callback?code=c&state=s");
    let Err(error) = instance::claim_at(&path, &link) else {
        panic!("the claim went ahead");
    };
    assert_eq!(error.kind(), std::io::ErrorKind::PermissionDenied, "{error}");
    assert!(error.to_string().contains(&format!("uid {OTHER_UID}")), "{error}");
    assert_eq!(
        squatter.accept().map(drop).map_err(|error| error.kind()),
        Err(std::io::ErrorKind::WouldBlock),
        "nobody connected to it"
    );
    assert!(path.exists(), "another user's socket is left alone");
}

#[cfg(unix)]
#[test]
fn a_socket_served_by_another_user_is_not_forwarded_to() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::CommandExt;
    let python = std::path::Path::new("/usr/bin/python3");
    if !root() || !python.exists() {
        crate::support::skip(
            "a_socket_served_by_another_user_is_not_forwarded_to",
            "needs root and /usr/bin/python3 to listen as another user",
        );
        return;
    }
    // Another user listens in a folder they may write to; the socket file is then given to us, so only
    // the peer's credentials tell it apart.
    let dir = tempfile::tempdir().unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let path = dir.path().join("anyon-test.sock");
    // It answers one connection (or none within 20 s), says how many bytes that connection sent, and ends:
    // its whole output is then read with no kill racing its last line.
    let script = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(4)
s.settimeout(20)
sys.stdout.write('ready\n'); sys.stdout.flush()
try:
    c, _ = s.accept()
except socket.timeout:
    sys.stdout.write('no connection\n'); sys.exit(0)
c.settimeout(5)
received = 0
try:
    while True:
        chunk = c.recv(65536)
        if not chunk:
            break
        received += len(chunk)
except OSError:
    pass
sys.stdout.write('got %d\n' % received); sys.stdout.flush()
"#;
    let mut child = std::process::Command::new(python)
        .args(["-c", script])
        .arg(&path)
        .uid(OTHER_UID)
        .gid(OTHER_UID)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let _child = Kill(child);
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    std::os::unix::fs::chown(&path, Some(0), Some(0)).unwrap();

    let link = Handover::sign_in_link("anyon://auth/callback?code=c&state=s");
    let Err(error) = instance::claim_at(&path, &link) else {
        panic!("the link was handed to another user's process");
    };
    assert_eq!(error.kind(), std::io::ErrorKind::PermissionDenied, "{error}");
    assert!(error.to_string().contains(&format!("uid {OTHER_UID}")), "{error}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    drop(_child);
    assert_eq!(
        // Connecting is how the peer is known; not a byte is sent to it.
        rest,
        ["got 0"],
        "it received data: {rest:?}"
    );
}

#[cfg(unix)]
#[test]
fn a_client_of_another_user_is_not_delivered() {
    use std::os::unix::process::CommandExt;
    let python = std::path::Path::new("/usr/bin/python3");
    if !root() || !python.exists() {
        crate::support::skip(
            "a_client_of_another_user_is_not_delivered",
            "needs root and /usr/bin/python3 to connect as another user",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        // The other user must reach the socket for the server's own check to be what stops it.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = dir.path().join("anyon-test.sock");
    let runtime = support::runtime();
    let Claim::Primary(listener) = instance::claim_at(&path, &Handover::default()).unwrap() else {
        panic!("expected to be the first instance");
    };
    let (handovers, mut inbox) = handover::channel();
    let deliver: instance::Deliver<Handover> = std::sync::Arc::new(move |handover| {
        handovers.deliver(handover);
    });
    let _guard = listener.serve(runtime.handle(), deliver).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let usage = Handover {
        screen: Some(Screen::Usage),
        action: None,
    };
    let message = serde_json::to_string(&usage).unwrap();
    let script = r#"
import socket, sys
c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1])
try:
    c.sendall(sys.argv[2].encode() + b'\n')
    print(repr(c.recv(100)), flush=True)
except OSError:
    print('closed', flush=True)
"#;
    let output = std::process::Command::new(python)
        .args(["-c", script])
        .arg(&path)
        .arg(&message)
        .uid(OTHER_UID)
        .gid(OTHER_UID)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let answer = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(
        answer == "b''" || answer == "closed",
        "another user got an answer: {answer}"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(inbox.try_recv(), None, "nothing was delivered");
    // The same message from this user is delivered.
    let Claim::Forwarded = instance::claim_at(&path, &usage).unwrap() else {
        panic!("not forwarded");
    };
    let received = support::wait_for("the handover", Duration::from_secs(10), || inbox.try_recv());
    assert_eq!(received.screen, Some(Screen::Usage));
}
