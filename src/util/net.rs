//! Shared pieces of outgoing HTTP.

/// Makes rustls use the `ring` provider (the build enables no other) before the first TLS client is
/// built. Idempotent and cheap after the first call.
pub fn install_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
