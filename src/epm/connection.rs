//! One DCE/RPC connection's byte stream, shared by the client and the fixture server: it owns
//! the read buffer, waits until [`pdu::frame_length`] says a whole fragment is there, and hands
//! out exactly that fragment. Fragments are at most 64 KiB by the header's own field width, so
//! the buffer stays bounded whatever the peer sends.

use crate::wire::WireError;
use crate::wire::pdu::{self, MAX_FRAG_LEN};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Why a fragment could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("connection closed by the peer")]
    Closed,
    #[error("connection closed by the peer after {0} bytes of an incomplete fragment")]
    ClosedMidFrame(usize),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Wire(#[from] WireError),
    /// The SMB session under a named pipe failed (`epm::pipe`).
    #[error("{0}")]
    Smb(#[from] crate::smb::session::SmbError),
}

/// A stream of whole DCE/RPC fragments, what [`super::client::EpmSession`] binds and calls
/// over: a [`Connection`] (TCP), or a named pipe over SMB (`epm::pipe`).
pub trait Fragments: Send {
    /// Read one whole fragment.
    fn read_fragment(&mut self) -> impl Future<Output = Result<Vec<u8>, ConnectionError>> + Send;
    /// Send one whole fragment.
    fn write_fragment(
        &mut self,
        bytes: &[u8],
    ) -> impl Future<Output = Result<(), ConnectionError>> + Send;
    /// Bytes buffered of an incomplete fragment, and the length its header announced.
    fn pending(&self) -> (usize, Option<usize>);
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Fragments for Connection<S> {
    async fn read_fragment(&mut self) -> Result<Vec<u8>, ConnectionError> {
        Connection::read_fragment(self).await
    }
    async fn write_fragment(&mut self, bytes: &[u8]) -> Result<(), ConnectionError> {
        self.write_all(bytes).await
    }
    fn pending(&self) -> (usize, Option<usize>) {
        Connection::pending(self)
    }
}

/// How much of a fragment `buf` holds: the bytes, and the length its header announced when the
/// header is there (for [`Fragments::pending`]).
pub fn pending_in(buf: &[u8]) -> (usize, Option<usize>) {
    let announced = if buf.len() >= pdu::HEADER_LEN {
        pdu::parse_header(buf)
            .ok()
            .map(|h| usize::from(h.frag_length))
    } else {
        None
    };
    (buf.len(), announced)
}

/// A buffered DCE/RPC connection over any byte stream.
#[derive(Debug)]
pub struct Connection<S> {
    stream: S,
    buf: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    pub fn new(stream: S) -> Self {
        Connection {
            stream,
            buf: Vec::with_capacity(8 * 1024),
        }
    }

    /// Read one whole fragment. Cancel-safe: bytes already read stay buffered.
    pub async fn read_fragment(&mut self) -> Result<Vec<u8>, ConnectionError> {
        loop {
            if let Some(len) = pdu::frame_length(&self.buf)? {
                let rest = self.buf.split_off(len);
                return Ok(std::mem::replace(&mut self.buf, rest));
            }
            // Never hold more than one maximal fragment plus one read.
            let mut chunk = [0u8; 8 * 1024];
            let want = chunk.len().min(MAX_FRAG_LEN + chunk.len() - self.buf.len());
            let n = self.stream.read(&mut chunk[..want]).await?;
            if n == 0 {
                return Err(if self.buf.is_empty() {
                    ConnectionError::Closed
                } else {
                    ConnectionError::ClosedMidFrame(self.buf.len())
                });
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    pub async fn write_all(&mut self, bytes: &[u8]) -> Result<(), ConnectionError> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await?;
        Ok(())
    }

    /// Bytes buffered of a fragment not yet complete, and the length its header announced
    /// when the header is there: what a timeout reports about a peer that stalled.
    pub fn pending(&self) -> (usize, Option<usize>) {
        pending_in(&self.buf)
    }

    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    pub fn get_ref(&self) -> &S {
        &self.stream
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ndr::ByteOrder;
    use crate::wire::pdu::{BindNak, Body, HEADER_LEN, Pdu};

    #[tokio::test]
    async fn reads_fragments_split_anywhere() {
        let a = Pdu::new(ByteOrder::Little, 1, 3, Body::Shutdown)
            .encode()
            .unwrap();
        let b = Pdu::new(ByteOrder::Big, 2, 3, Body::Shutdown)
            .encode()
            .unwrap();
        let mut all = a.clone();
        all.extend_from_slice(&b);
        let (client, mut server) = tokio::io::duplex(64);
        tokio::spawn(async move {
            for byte in all {
                server.write_all(&[byte]).await.unwrap();
            }
        });
        let mut conn = Connection::new(client);
        assert_eq!(conn.read_fragment().await.unwrap(), a);
        assert_eq!(conn.read_fragment().await.unwrap(), b);
        assert!(matches!(
            conn.read_fragment().await,
            Err(ConnectionError::Closed)
        ));
    }

    #[tokio::test]
    async fn eof_inside_a_fragment_is_reported() {
        let a = Pdu::new(ByteOrder::Little, 1, 3, Body::Shutdown)
            .encode()
            .unwrap();
        let (client, mut server) = tokio::io::duplex(64);
        server.write_all(&a[..10]).await.unwrap();
        drop(server);
        let mut conn = Connection::new(client);
        assert!(matches!(
            conn.read_fragment().await,
            Err(ConnectionError::ClosedMidFrame(10))
        ));
    }

    #[tokio::test]
    async fn a_stalled_fragment_is_reported_as_pending() {
        let nak = BindNak {
            reject_reason: 4,
            versions: vec![(5, 0)],
        };
        let a = Pdu::new(ByteOrder::Little, 1, 3, Body::BindNak(nak))
            .encode()
            .unwrap();
        assert!(a.len() > HEADER_LEN);
        let (client, mut server) = tokio::io::duplex(64);
        server.write_all(&a[..HEADER_LEN - 2]).await.unwrap();
        let mut conn = Connection::new(client);
        let wait = std::time::Duration::from_millis(50);
        assert!(
            tokio::time::timeout(wait, conn.read_fragment())
                .await
                .is_err()
        );
        assert_eq!(conn.pending(), (HEADER_LEN - 2, None));
        server
            .write_all(&a[HEADER_LEN - 2..HEADER_LEN])
            .await
            .unwrap();
        assert!(
            tokio::time::timeout(wait, conn.read_fragment())
                .await
                .is_err()
        );
        assert_eq!(conn.pending(), (HEADER_LEN, Some(a.len())));
    }

    #[tokio::test]
    async fn garbage_is_a_wire_error() {
        let (client, mut server) = tokio::io::duplex(64);
        server.write_all(b"SSH-2.0-OpenSSH_9.2\r\n").await.unwrap();
        let mut conn = Connection::new(client);
        assert!(matches!(
            conn.read_fragment().await,
            Err(ConnectionError::Wire(_))
        ));
    }
}
