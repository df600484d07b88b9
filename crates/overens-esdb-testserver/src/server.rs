//! The TCP/HTTP-2 side: accepts loopback connections (with TCP_NODELAY), serves the gRPC
//! routes on each, and can drop every connection at once (stop, or a simulated network blip).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tonic::service::Routes;
use tower::ServiceExt;

use crate::database::Database;
use crate::proto::streams::streams_server::StreamsServer;
use crate::service::StreamsService;

/// Lets a request handler drop its own connection (fault injection). Put into every request's
/// extensions by the connection that carries it.
#[derive(Clone, Debug)]
pub(crate) struct ConnectionHandle {
    kill: Arc<Notify>,
}

impl ConnectionHandle {
    pub(crate) fn drop_now(&self) {
        self.kill.notify_one();
    }
}

enum Command {
    DropConnections(oneshot::Sender<()>),
    Stop(oneshot::Sender<()>),
}

/// An in-process EventStoreDB gRPC server on 127.0.0.1, for tests through the real
/// `eventstore` client. See the crate documentation for what it models.
pub struct TestServer {
    addr: SocketAddr,
    db: Database,
    commands: mpsc::UnboundedSender<Command>,
    task: JoinHandle<()>,
}

impl fmt::Debug for TestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// Binds 127.0.0.1:0 with an empty [`Database`], serves in a tokio task, and returns once
    /// the socket accepts connections.
    pub async fn start() -> std::io::Result<TestServer> {
        TestServer::start_with(Database::default(), SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Serves `db` on `addr`: with the database and address of a stopped server, this is that
    /// server restarted with its data (clients configured for the address reconnect to it).
    pub async fn start_with(db: Database, addr: SocketAddr) -> std::io::Result<TestServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (commands, receiver) = mpsc::unbounded_channel();
        let task = tokio::spawn(accept_loop(listener, db.clone(), receiver));
        Ok(TestServer {
            addr,
            db,
            commands,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The served data (a cheap clone sharing it).
    pub fn database(&self) -> Database {
        self.db.clone()
    }

    /// A connection string for `eventstore::ClientSettings`:
    /// `esdb://127.0.0.1:PORT?tls=false&discoveryInterval=0`. Without `discoveryInterval=0` the
    /// 4.0.0 client sleeps 500 ms before its first connection.
    pub fn connection_string(&self) -> String {
        format!(
            "esdb://{}:{}?tls=false&discoveryInterval=0",
            self.addr.ip(),
            self.addr.port()
        )
    }

    /// Drops every open connection, and with it every subscription and call in flight, but
    /// keeps accepting new ones: a network blip. Returns once the connections are gone.
    pub async fn drop_connections(&self) {
        let (done, wait) = oneshot::channel();
        if self.commands.send(Command::DropConnections(done)).is_ok() {
            let _ = wait.await;
        }
    }

    /// Stops accepting, drops every open connection and subscription (the client sees a lost
    /// connection), and returns once the port is free for [`TestServer::start_with`].
    pub async fn stop(self) {
        let (done, wait) = oneshot::channel();
        if self.commands.send(Command::Stop(done)).is_ok() {
            let _ = wait.await;
        }
        let _ = self.task.await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    db: Database,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let routes = Routes::new(StreamsServer::new(StreamsService::new(db)));
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, routes.clone()));
                }
                Err(e) => tracing::warn!("test server: accept failed: {e}"),
            },
            command = commands.recv() => match command {
                Some(Command::DropConnections(done)) => {
                    connections.shutdown().await;
                    let _ = done.send(());
                }
                Some(Command::Stop(done)) => {
                    drop(listener);
                    connections.shutdown().await;
                    let _ = done.send(());
                    return;
                }
                // The TestServer was dropped without stop(): stop all the same.
                None => {
                    connections.shutdown().await;
                    return;
                }
            },
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection(stream: TcpStream, routes: Routes) {
    // Our replies go out at once.
    if let Err(e) = stream.set_nodelay(true) {
        tracing::warn!("test server: set_nodelay failed: {e}");
    }
    let handle = ConnectionHandle {
        kill: Arc::new(Notify::new()),
    };
    let kill = Arc::clone(&handle.kill);
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(tonic::body::boxed);
        request.extensions_mut().insert(handle.clone());
        routes.clone().oneshot(request)
    });
    let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(QuickAck(stream)), service);
    tokio::select! {
        result = connection => {
            if let Err(e) = result {
                tracing::debug!("test server: connection ended: {e}");
            }
        }
        // Dropping the connection future closes the socket without a GOAWAY: an abrupt loss.
        () = kill.notified() => {}
    }
}

/// A TCP stream that acknowledges what it reads at once. The 4.0.0 client never sets
/// TCP_NODELAY, so Nagle holds each of its frames after the first until the server ACKs; with
/// Linux's delayed ACK that costs ~40 ms per call (an append is several frames). TCP_NODELAY
/// on our side does not help with that; TCP_QUICKACK after every read does. It is not sticky
/// (the kernel falls back to delayed ACKs), hence after every read. A real server does not do
/// this: see the crate documentation.
struct QuickAck(TcpStream);

impl QuickAck {
    fn ack_now(&self) {
        #[cfg(target_os = "linux")]
        if let Err(e) = socket2::SockRef::from(&self.0).set_tcp_quickack(true) {
            tracing::debug!("test server: TCP_QUICKACK failed: {e}");
        }
    }
}

impl AsyncRead for QuickAck {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut this.0).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.ack_now();
        }
        read
    }
}

impl AsyncWrite for QuickAck {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}
