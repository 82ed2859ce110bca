//! The service on a background thread, for tests and load runs that drive it over
//! real HTTP from the same process.

use ecom_store::PgStore;

use super::router;

/// A service running on its own runtime in the background, for tests and load runs.
pub struct RunningService {
    addr: std::net::SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningService {
    /// Serves `router(store)` on a free port of 127.0.0.1.
    pub fn start(store: PgStore) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => listener,
                    Err(err) => {
                        tracing::error!(error = %err, "cannot listen on {addr}");
                        return;
                    }
                };
                let served = axum::serve(listener, router(store))
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
                if let Err(err) = served {
                    tracing::error!(error = %err, "the service on {addr} stopped");
                }
            });
        });
        Ok(Self {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        // Graceful: requests in flight finish before the thread is joined, so nothing
        // of the service outlives this value.
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
