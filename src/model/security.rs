//! Pod and container security settings. Every field defaults to the secure choice; the
//! lowering refuses a weaker one without a `reason`.

use crate::span::Spanned;

/// The seccomp profile of a pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seccomp {
    RuntimeDefault,
    Unconfined,
}

/// `security run-as-user=… read-only-root=… … reason=…`, defaults applied.
#[derive(Clone, Debug)]
pub struct Security {
    pub run_as_user: u32,
    pub run_as_group: u32,
    pub fs_group: u32,
    pub run_as_non_root: bool,
    pub read_only_root: bool,
    pub privilege_escalation: bool,
    pub add_capabilities: Vec<Spanned<String>>,
    pub seccomp: Seccomp,
    /// Why a default was weakened; `None` when nothing was.
    pub reason: Option<Spanned<String>>,
}

/// UID and GID 10001: non-root, and above the range host accounts use, so a container
/// escape does not land on a real host user (checkov `CKV_K8S_40`).
impl Default for Security {
    fn default() -> Self {
        Self {
            run_as_user: 10001,
            run_as_group: 10001,
            fs_group: 10001,
            run_as_non_root: true,
            read_only_root: true,
            privilege_escalation: false,
            add_capabilities: Vec::new(),
            seccomp: Seccomp::RuntimeDefault,
            reason: None,
        }
    }
}

impl Security {
    /// Whether any setting is weaker than the default.
    pub fn is_weakened(&self) -> bool {
        !self.run_as_non_root
            || !self.read_only_root
            || self.privilege_escalation
            || !self.add_capabilities.is_empty()
            || self.seccomp == Seccomp::Unconfined
    }
}
