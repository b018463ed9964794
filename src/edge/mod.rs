//! The listeners' own accept loop: one port answers gRPC and plain HTTP (HTTP/1.1 and HTTP/2),
//! told apart by `content-type: application/grpc`, so there is no second port to open or probe.
//! Each connection is served until shutdown, then drained: HTTP/2 gets a GOAWAY, idle HTTP/1.1
//! connections close.

mod deadline;
pub mod http;
pub mod tls;

use std::{net::SocketAddr, time::Duration};

use axum::Router;
use hyper::{Request, body::Incoming};
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::{
        conn::auto::Builder,
        graceful::{GracefulShutdown, Watcher},
    },
    service::TowerToHyperService,
};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpListener,
    sync::watch,
};
use tokio_rustls::TlsAcceptor;
use tonic::transport::server::TcpConnectInfo;
use tower::ServiceExt;

use tls::CurrentTls;

/// A client that connects and never completes its handshake holds a task no longer than this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// gRPC routes and HTTP routes, served together on one listener.
#[derive(Clone)]
pub struct Multiplex {
    pub grpc: Router,
    pub http: Router,
}

impl Multiplex {
    fn route(&self, request: &Request<Incoming>) -> Router {
        let is_grpc = request
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes().starts_with(b"application/grpc"));
        if is_grpc {
            self.grpc.clone()
        } else {
            self.http.clone()
        }
    }
}

/// Accepts until `shutdown` turns true, then waits for open connections to finish their calls.
/// With `tls`, every connection is TLS, with the configuration current when it was accepted.
pub async fn serve(
    listener: TcpListener,
    routes: Multiplex,
    tls: Option<CurrentTls>,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let builder = Builder::new(TokioExecutor::new());
    let local_addr = listener.local_addr().ok();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let (stream, remote_addr) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, most likely: retrying at once would spin.
                tracing::warn!(error = %error, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Without TCP_NODELAY a response written in several small pieces waits for the client's
        // delayed ACK: 40 ms on a call that takes one.
        let _ = stream.set_nodelay(true);
        let service = connection_service(routes.clone(), local_addr, remote_addr);
        let acceptor = tls
            .as_ref()
            .map(|current| TlsAcceptor::from(current.borrow().clone()));
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let Some(acceptor) = acceptor else {
                return serve_connection(&builder, watcher, stream, service).await;
            };
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => serve_connection(&builder, watcher, stream, service).await,
                Ok(Err(error)) => tracing::debug!(error = %error, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

async fn serve_connection<I, S>(
    builder: &Builder<TokioExecutor>,
    watcher: Watcher,
    stream: I,
    service: S,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<
            Request<Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Send
        + 'static,
    S::Future: Send + 'static,
{
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    if let Err(error) = watcher.watch(connection).await {
        tracing::debug!(error = %error, "connection ended with an error");
    }
}

/// Tells each request where it came from (as tonic's own server does), then routes it.
fn connection_service(
    routes: Multiplex,
    local_addr: Option<SocketAddr>,
    remote_addr: SocketAddr,
) -> TowerToHyperService<
    impl tower::Service<
        Request<Incoming>,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
        Future = impl Send,
    > + Clone,
> {
    let info = TcpConnectInfo {
        local_addr,
        remote_addr: Some(remote_addr),
    };
    TowerToHyperService::new(tower::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(info.clone());
        let deadline = deadline::grpc_timeout(request.headers());
        let call = routes.route(&request).oneshot(request);
        async move {
            let Some(deadline) = deadline else {
                return call.await;
            };
            match tokio::time::timeout(deadline, call).await {
                Ok(response) => response,
                Err(_) => Ok(tonic::Status::cancelled("Timeout expired").into_http()),
            }
        }
    }))
}
