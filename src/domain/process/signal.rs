//! Signals to whole process groups, and liveness checks.

/// The signals a stop uses.
#[derive(Debug, Clone, Copy)]
pub enum Signal {
    Term,
    Kill,
}

/// Sends `signal` to the process group led by `pid` (children spawned with `process_group(0)`).
#[cfg(unix)]
pub fn signal_group(pid: u32, signal: Signal) {
    let Ok(pgid) = libc::pid_t::try_from(pid) else { return };
    if pgid <= 1 {
        return;
    }
    let number = match signal {
        Signal::Term => libc::SIGTERM,
        Signal::Kill => libc::SIGKILL,
    };
    // SAFETY: kill(2) takes no pointers and has no memory-safety preconditions; a negative pid signals the
    // group, and `pgid > 1` keeps it from meaning "every process" (-1) or our own group (0).
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(-pgid, number);
    }
}

/// Whether a process with this pid exists (a zombie counts until its parent reaps it).
#[cfg(unix)]
pub fn is_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill(2) takes no pointers and has no memory-safety preconditions; signal 0 sends nothing and
    // only checks that the process exists.
    #[allow(unsafe_code)]
    let result = unsafe { libc::kill(pid, 0) };
    result == 0
}

#[cfg(windows)]
pub fn signal_group(pid: u32, _signal: Signal) {
    // Windows has no process groups to signal: end the whole tree.
    let _ = std::process::Command::new("taskkill")
        .args(["/T", "/F", "/PID", &pid.to_string()])
        .status();
}

#[cfg(windows)]
pub fn is_alive(pid: u32) -> bool {
    std::process::Command::new("tasklist")
        .args(["/FI", &format!("PID eq {pid}"), "/NH"])
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains(&pid.to_string()))
}
