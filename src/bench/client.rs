//! A minimal HTTP/1.1 client for the benchmark: one keep-alive connection,
//! `GET path` or `POST path` with a JSON body, read the status and a
//! `content-length` body. Small enough that the time it adds is the
//! socket's, not a client library's.
//!
//! It must never talk to anything but 127.0.0.1 (the caller passes the
//! server's loopback address) and never follow redirects or retry.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};

pub struct Connection {
    /// `Bearer <key>`, sent with every request.
    authorization: String,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    body: Vec<u8>,
}

impl Connection {
    pub fn open(target: &super::Target) -> std::io::Result<Connection> {
        let address: SocketAddr = target.address;
        if !address.ip().is_loopback() {
            return Err(std::io::Error::other(
                "the benchmark only talks to 127.0.0.1",
            ));
        }
        let stream = TcpStream::connect(address)?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            authorization: format!("Bearer {}", target.key),
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            body: Vec::new(),
        })
    }

    /// Sends `GET path` and reads the whole answer; returns its status.
    pub fn get(&mut self, path: &str) -> std::io::Result<u16> {
        write!(
            self.writer,
            "GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: {}\r\n\r\n",
            self.authorization
        )?;
        self.read_answer()
    }

    /// Sends `POST path` with a JSON body and reads the whole answer;
    /// returns its status.
    pub fn post_json(&mut self, path: &str, body: &[u8]) -> std::io::Result<u16> {
        write!(
            self.writer,
            "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            self.authorization,
            body.len()
        )?;
        self.writer.write_all(body)?;
        self.read_answer()
    }

    /// The body of the last answer.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    fn read_answer(&mut self) -> std::io::Result<u16> {
        self.writer.flush()?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line `{line}`")))?;
        let mut length = None;
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::Error::other("connection closed in headers"));
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let length =
            length.ok_or_else(|| std::io::Error::other("answer without content-length"))?;
        self.body.resize(length, 0);
        self.reader.read_exact(&mut self.body)?;
        Ok(status)
    }
}

/// Percent-encodes a query-string value (everything but unreserved bytes).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `path?k=v&...` with the values encoded.
pub fn url(path: &str, params: &[(String, String)]) -> String {
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    format!("{path}?{}", query.join("&"))
}
