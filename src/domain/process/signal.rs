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
    // SAFETY: kill(2) with a negative pid signals the group; it has no memory-safety preconditions.
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
    // SAFETY: kill(2) with signal 0 only checks for existence.
    unsafe { libc::kill(pid, 0) == 0 }
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
