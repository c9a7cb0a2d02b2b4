//! An open named pipe on `IPC$`: write one message, read what is there, or both at once with
//! `FSCTL_PIPE_TRANSCEIVE` (one round trip for a request and its first answer), and close.
//! Pipes opened by Windows' RPC runtime are message pipes: a read returns at most one
//! message, and `STATUS_BUFFER_OVERFLOW` says that more of it follows (the data is valid).
//! Each method is one step its caller bounds with a deadline (see [`super::session`]).

use super::header::{Command, status};
use super::msg::{self, FSCTL_PIPE_TRANSCEIVE, FileId};
use super::session::{Session, SmbError};

/// What a read or transceive returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub data: Vec<u8>,
    /// The message continues (`STATUS_BUFFER_OVERFLOW`).
    pub more: bool,
}

/// An open pipe and the session it lives in.
#[derive(Debug)]
pub struct Pipe {
    session: Session,
    file: FileId,
}

impl Pipe {
    /// Open `name` (e.g. `epmapper`) in a session connected to `IPC$`.
    pub async fn open(mut session: Session, name: &str) -> Result<Pipe, SmbError> {
        let file = session.open(name).await?;
        Ok(Pipe { session, file })
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Write `data` as one message.
    pub async fn write(&mut self, data: &[u8]) -> Result<(), SmbError> {
        if data.len() > self.session.max_write() as usize {
            return Err(super::SmbWireError::TooLarge {
                what: "pipe write",
                size: data.len(),
                limit: self.session.max_write() as usize,
            }
            .into());
        }
        let body = msg::write_request(self.file, data)?;
        let (_, reply) = self.session.exchange(Command::Write, &body, &[]).await?;
        let n = msg::write_response(&reply)?;
        if n as usize != data.len() {
            return Err(super::SmbWireError::invalid(
                "write response",
                format!("{n} of {} bytes written", data.len()),
            )
            .into());
        }
        Ok(())
    }

    /// Read at most `max` bytes (bounded by the server's limits) of the next message.
    pub async fn read(&mut self, max: u32) -> Result<Chunk, SmbError> {
        let asked = max.min(self.session.max_read());
        let body = msg::read_request(self.file, asked);
        let (h, reply) = self
            .session
            .exchange(Command::Read, &body, &[status::BUFFER_OVERFLOW])
            .await?;
        Ok(Chunk {
            data: msg::read_response(&reply, asked)?.to_vec(),
            more: h.status == status::BUFFER_OVERFLOW,
        })
    }

    /// Write `data` as one message and read at most `max` bytes of the answer.
    pub async fn transceive(&mut self, data: &[u8], max: u32) -> Result<Chunk, SmbError> {
        let asked = max.min(self.session.max_read());
        let body = msg::transceive_request(self.file, data, asked)?;
        let (h, reply) = self
            .session
            .exchange(Command::Ioctl, &body, &[status::BUFFER_OVERFLOW])
            .await?;
        Ok(Chunk {
            data: msg::ioctl_response(&reply, FSCTL_PIPE_TRANSCEIVE, asked)?.to_vec(),
            more: h.status == status::BUFFER_OVERFLOW,
        })
    }

    /// Close the pipe, then leave the tree and log off (best effort: the caller ignores a
    /// failure, the connection closes anyway).
    pub async fn close(mut self) -> Result<(), SmbError> {
        let (_, reply) = self
            .session
            .exchange(Command::Close, &msg::close_request(self.file), &[])
            .await?;
        msg::close_response(&reply)?;
        self.session
            .exchange(Command::TreeDisconnect, &msg::empty_request(), &[])
            .await?;
        self.session
            .exchange(Command::Logoff, &msg::empty_request(), &[])
            .await?;
        Ok(())
    }
}
