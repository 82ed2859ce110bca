//! Serving: the routes, the background work and a graceful stop, for `shop-service`
//! and for tests and load runs that drive the service over real HTTP from the same
//! process.

use std::future::Future;
use std::net::SocketAddr;

use ecom_store::PgStore;

use super::app::{App, ServiceConfig};
use super::background::{Background, Intervals};
use super::router_with;

/// Serves `app` on `listener`, with its background work, until `shutdown` completes;
/// then stops taking connections, lets requests in flight finish, and stops the
/// background work after its rounds in progress.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    intervals: Intervals,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let background = Background::start(&app, intervals);
    // The rate limits key on the client's address.
    let service = router_with(app).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await;
    background.stop().await;
    served
}

/// Completes on SIGTERM (what an orchestrator sends) or Ctrl-C (SIGINT).
///
/// Both are listened for from the call on, not from the future's first poll: a
/// SIGTERM that arrives while the service starts (its background work may begin
/// before the server polls this future) stops it cleanly instead of killing it.
/// Call it inside the runtime, before [`serve`].
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind, name: &'static str| {
        signal(kind)
            .inspect_err(|err| tracing::error!(error = %err, "cannot listen for {name}"))
            .ok()
    };
    let mut interrupt = listen(SignalKind::interrupt(), "Ctrl-C");
    let mut terminate = listen(SignalKind::terminate(), "SIGTERM");
    async move {
        let interrupted = async {
            match interrupt.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        let terminated = async {
            match terminate.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = interrupted => {},
            () = terminated => {},
        }
        tracing::info!("stopping: finishing requests in flight");
    }
}

/// A service running on its own runtime in the background, for tests and load runs.
pub struct RunningService {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningService {
    /// Serves `store` with bounds sized to its pool on a free port of 127.0.0.1.
    pub fn start(store: PgStore) -> std::io::Result<Self> {
        let config = ServiceConfig::for_store(&store);
        Self::start_with(App::new(store, config), Intervals::default())
    }

    /// Serves `app` with background work every `intervals` on a free port of
    /// 127.0.0.1.
    pub fn start_with(app: App, intervals: Intervals) -> std::io::Result<Self> {
        // Port 0: the system picks a free port and the listener holds it.
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
                let stop = async {
                    let _ = rx.await;
                };
                if let Err(err) = serve(listener, app, intervals, stop).await {
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
