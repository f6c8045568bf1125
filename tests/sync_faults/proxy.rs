//! The fault-injecting loopback proxy between a device's `RemotePortal` and the server.
//!
//! One proxy per device, each with its own seeded RNG: a device sends one request at a time, so
//! the sequence of fault decisions it meets follows from the seed. The proxy speaks just enough
//! HTTP/1.1 to see where a request ends (`Content-Length`), and makes every exchange the only one
//! on its connections: it adds `Connection: close` to the request, so the server closes after
//! answering (the answer is everything up to EOF) and says so in the response, which keeps the
//! client's pool from reusing the connection. Per connection it then does one of:
//!
//! - **pass**; **delay** (a few to ~200 ms before forwarding); **hold** (reorder: the request
//!   waits while other devices' requests overtake it); **slow answer** (the response waits);
//! - **drop the request** (closed without forwarding);
//! - **drop the response**: forwarded, the server answers, the device hears nothing — the
//!   "applied, but the client never heard" case;
//! - **duplicate**: sent twice at once on two connections, one answer returned;
//! - **late duplicate** (reorder): answered normally, and the same bytes sent again a little
//!   later, after the device may have moved on (a stale retransmission overtaken by newer pushes);
//! - **cut the request** mid-way (half its bytes, then close) or **cut the response** mid-way.
//!
//! While the server is down the proxy cannot connect upstream and closes the connection. With
//! [`Faults::on`] false every request passes.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the proxy does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    Pass,
    Delay(u64),
    Hold(u64),
    SlowAnswer(u64),
    DropRequest,
    DropResponse,
    Duplicate,
    LateDuplicate(u64),
    CutRequest,
    CutResponse,
}

/// The kinds of fault, for the counts.
pub const KINDS: [&str; 9] = [
    "delay",
    "hold",
    "slow",
    "drop-req",
    "drop-resp",
    "dup",
    "late-dup",
    "cut-req",
    "cut-resp",
];

impl Plan {
    fn kind(self) -> Option<usize> {
        Some(match self {
            Plan::Pass => return None,
            Plan::Delay(_) => 0,
            Plan::Hold(_) => 1,
            Plan::SlowAnswer(_) => 2,
            Plan::DropRequest => 3,
            Plan::DropResponse => 4,
            Plan::Duplicate => 5,
            Plan::LateDuplicate(_) => 6,
            Plan::CutRequest => 7,
            Plan::CutResponse => 8,
        })
    }

    /// Draws a plan: about half of the requests meet a fault.
    fn draw(rng: &mut StdRng) -> Plan {
        match rng.gen_range(0..100) {
            0..=47 => Plan::Pass,
            48..=55 => Plan::Delay(rng.gen_range(3..200)),
            56..=60 => Plan::Hold(rng.gen_range(100..400)),
            61..=64 => Plan::SlowAnswer(rng.gen_range(20..250)),
            65..=70 => Plan::DropRequest,
            71..=80 => Plan::DropResponse,
            81..=86 => Plan::Duplicate,
            87..=91 => Plan::LateDuplicate(rng.gen_range(30..500)),
            92..=95 => Plan::CutRequest,
            _ => Plan::CutResponse,
        }
    }
}

/// What all proxies of a run share: the switch, where the server is, what was done.
#[derive(Debug, Default)]
pub struct Faults {
    /// Faults are injected while set; cleared for the final convergence phase.
    pub on: AtomicBool,
    /// The server's port on 127.0.0.1 (0: none yet).
    upstream: AtomicU16,
    /// Late duplicates not yet sent and answered (waited for before the checks).
    in_flight: AtomicUsize,
    /// How many of each kind of fault were injected.
    counts: [AtomicU64; KINDS.len()],
    /// Requests seen.
    pub requests: AtomicU64,
}

impl Faults {
    pub fn new() -> Arc<Faults> {
        let f = Faults::default();
        f.on.store(true, Ordering::SeqCst);
        Arc::new(f)
    }

    pub fn set_upstream(&self, port: u16) {
        self.upstream.store(port, Ordering::SeqCst);
    }

    /// The counts of each kind of fault injected so far.
    pub fn counts(&self) -> Vec<(&'static str, u64)> {
        KINDS
            .iter()
            .zip(&self.counts)
            .map(|(k, c)| (*k, c.load(Ordering::SeqCst)))
            .collect()
    }

    /// Waits (bounded) until no late duplicate is still to be sent or answered.
    pub async fn settle(&self) {
        for _ in 0..400 {
            if self.in_flight.load(Ordering::SeqCst) == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn connect(&self) -> Option<TcpStream> {
        let port = self.upstream.load(Ordering::SeqCst);
        if port == 0 {
            return None;
        }
        tokio::time::timeout(
            Duration::from_secs(2),
            TcpStream::connect(("127.0.0.1", port)),
        )
        .await
        .ok()?
        .ok()
    }

    /// Sends `request` upstream on a connection of its own and reads the answer to EOF. `None`
    /// when the server cannot be reached or answers nothing (killed mid-request).
    async fn exchange(&self, request: &[u8]) -> Option<Vec<u8>> {
        let mut up = self.connect().await?;
        up.write_all(request).await.ok()?;
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(30), up.read_to_end(&mut answer));
        match read.await {
            Ok(Ok(_)) if !answer.is_empty() => Some(answer),
            _ => None,
        }
    }
}

/// One device's proxy: a loopback listener forwarding to the server. Stops when dropped.
#[derive(Debug)]
pub struct Proxy {
    pub url: String,
    task: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    pub async fn start(faults: Arc<Faults>, seed: u64) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy addr"));
        let rng = Arc::new(Mutex::new(StdRng::seed_from_u64(seed)));
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                faults.requests.fetch_add(1, Ordering::SeqCst);
                // Drawn even with faults off, so the sequence stays the seed's.
                let drawn = Plan::draw(&mut rng.lock().expect("proxy rng"));
                let plan = if faults.on.load(Ordering::SeqCst) {
                    drawn
                } else {
                    Plan::Pass
                };
                if let Some(k) = plan.kind() {
                    faults.counts[k].fetch_add(1, Ordering::SeqCst);
                }
                tokio::spawn(handle(client, plan, faults.clone()));
            }
        });
        Proxy { url, task }
    }
}

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

async fn handle(mut client: TcpStream, plan: Plan, f: Arc<Faults>) {
    let Some(request) = read_request(&mut client).await else {
        return;
    };
    let answer = match plan {
        Plan::Pass => f.exchange(&request).await,
        Plan::Delay(ms) | Plan::Hold(ms) => {
            sleep_ms(ms).await;
            f.exchange(&request).await
        }
        Plan::SlowAnswer(ms) => {
            let a = f.exchange(&request).await;
            sleep_ms(ms).await;
            a
        }
        Plan::DropRequest => None,
        Plan::DropResponse => {
            let _ = f.exchange(&request).await;
            None
        }
        Plan::Duplicate => {
            let (a, b) = tokio::join!(f.exchange(&request), f.exchange(&request));
            a.or(b)
        }
        Plan::LateDuplicate(ms) => {
            let a = f.exchange(&request).await;
            f.in_flight.fetch_add(1, Ordering::SeqCst);
            let (again, late) = (f.clone(), request.clone());
            tokio::spawn(async move {
                sleep_ms(ms).await;
                let _ = again.exchange(&late).await;
                again.in_flight.fetch_sub(1, Ordering::SeqCst);
            });
            a
        }
        Plan::CutRequest => {
            if let Some(mut up) = f.connect().await {
                let _ = up.write_all(&request[..request.len() / 2]).await;
                let _ = up.flush().await;
            }
            None
        }
        Plan::CutResponse => f
            .exchange(&request)
            .await
            .map(|a| a[..a.len() / 2].to_vec()),
    };
    if let Some(a) = answer {
        let _ = client.write_all(&a).await;
        let _ = client.flush().await;
    }
    let _ = client.shutdown().await;
}

/// Reads one request (headers, then `Content-Length` bytes of body) and returns it with
/// `Connection: close` in place of any `Connection` header. `None` if the client went away.
async fn read_request(client: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        let n = tokio::time::timeout(Duration::from_secs(30), client.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).ok()?.to_string();
    let mut length = 0usize;
    let mut lines = Vec::new();
    for line in head.split("\r\n") {
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
        assert!(
            !lower.starts_with("transfer-encoding:"),
            "the proxy handles Content-Length bodies only: {line}"
        );
        if !lower.starts_with("connection:") {
            lines.push(line);
        }
    }
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = tokio::time::timeout(Duration::from_secs(30), client.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let mut out = lines.join("\r\n").into_bytes();
    out.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    out.extend_from_slice(&body);
    Some(out)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
