use super::*;
use std::sync::Mutex;
use tokio::net::TcpStream;

/// A stand-in identity provider: discovery, an empty JWKS, and a token endpoint that records
/// the code it is given and refuses it (so `finish` shows which redirect it went on with).
struct FakeProvider {
    issuer: String,
    codes: Arc<Mutex<Vec<String>>>,
}

impl FakeProvider {
    async fn start() -> FakeProvider {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let codes = Arc::new(Mutex::new(Vec::new()));
        let (iss, seen) = (issuer.clone(), codes.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (iss, seen) = (iss.clone(), seen.clone());
                tokio::spawn(async move { serve_provider(stream, &iss, &seen).await });
            }
        });
        FakeProvider { issuer, codes }
    }

    fn config(&self) -> SignInConfig {
        SignInConfig {
            issuer: self.issuer.clone(),
            client_id: "provider-admin".into(),
            scopes: vec![],
        }
    }

    fn exchanged_codes(&self) -> Vec<String> {
        self.codes.lock().unwrap().clone()
    }
}

async fn serve_provider(mut stream: TcpStream, issuer: &str, codes: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(&mut stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).await.unwrap();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).await.unwrap();
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.unwrap();
    let path = request_line.split_whitespace().nth(1).unwrap_or_default();
    let (status, json) = match path {
        "/.well-known/openid-configuration" => (
            "200 OK",
            serde_json::json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{issuer}/authorize"),
                "token_endpoint": format!("{issuer}/token"),
                "jwks_uri": format!("{issuer}/jwks"),
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }),
        ),
        "/jwks" => ("200 OK", serde_json::json!({ "keys": [] })),
        "/token" => {
            let form: HashMap<String, String> =
                url::form_urlencoded::parse(&body).into_owned().collect();
            codes
                .lock()
                .unwrap()
                .push(form.get("code").cloned().unwrap_or_default());
            (
                "400 Bad Request",
                serde_json::json!({ "error": "invalid_grant" }),
            )
        }
        _ => ("404 Not Found", serde_json::json!({})),
    };
    let body = json.to_string();
    let reply = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(reply.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// What a browser (or anything else on this machine) gets from the loopback listener.
async fn get(redirect_uri: &str, query: &str) -> String {
    let url = url::Url::parse(redirect_uri).unwrap();
    let mut stream = TcpStream::connect((url.host_str().unwrap(), url.port().unwrap()))
        .await
        .unwrap();
    let request = format!(
        "GET {}?{query} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n",
        url.path()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    reply.lines().next().unwrap_or_default().to_string()
}

fn state_of(pending: &PendingSignIn) -> String {
    pending
        .authorize_url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// `finish` went on to exchange exactly the real redirect's code (which the fake provider
/// refuses: the test is about the listener, not the token).
fn assert_exchanged_the_real_code(result: Result<Session>, provider: &FakeProvider) {
    let err = result.unwrap_err().to_string();
    assert!(
        err.contains("did not accept the sign-in code"),
        "sign-in went on to the code exchange: {err}"
    );
    assert_eq!(provider.exchanged_codes(), vec!["real-code".to_string()]);
}

#[tokio::test]
async fn a_stray_callback_before_the_real_redirect_is_refused_and_ignored() {
    let provider = FakeProvider::start().await;
    let pending = begin(&provider.config()).await.unwrap();
    let (redirect, state) = (pending.redirect_uri().to_string(), state_of(&pending));
    let finish = tokio::spawn(pending.finish(Duration::from_secs(10)));

    let stray = get(&redirect, "code=evil-code&state=wrong").await;
    assert!(
        stray.contains(" 400 "),
        "a stray callback gets 400: {stray}"
    );
    let no_state = get(&redirect, "code=evil-code").await;
    assert!(no_state.contains(" 400 "), "no state gets 400: {no_state}");
    let other = get(&redirect.replace("/callback", "/favicon.ico"), "").await;
    assert!(other.contains(" 404 "), "{other}");

    let real = get(&redirect, &format!("code=real-code&state={state}")).await;
    assert!(
        real.contains(" 200 "),
        "the real redirect gets the done page: {real}"
    );
    assert_exchanged_the_real_code(finish.await.unwrap(), &provider);
}

#[tokio::test]
async fn a_silent_local_connection_does_not_block_the_real_redirect() {
    let provider = FakeProvider::start().await;
    let pending = begin(&provider.config()).await.unwrap();
    let (redirect, state) = (pending.redirect_uri().to_string(), state_of(&pending));
    let finish = tokio::spawn(pending.finish(Duration::from_secs(5)));

    // Connects and sends nothing, and stays open throughout.
    let url = url::Url::parse(&redirect).unwrap();
    let _silent = TcpStream::connect(("127.0.0.1", url.port().unwrap()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let real = tokio::time::timeout(
        Duration::from_secs(4),
        get(&redirect, &format!("code=real-code&state={state}")),
    )
    .await
    .expect("the real redirect is answered while the silent connection is open");
    assert!(real.contains(" 200 "), "{real}");
    assert_exchanged_the_real_code(finish.await.unwrap(), &provider);
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_dropped_after_the_read_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let serve = tokio::spawn(async move {
        serve_callback(&listener, "the-state", Duration::from_millis(200)).await
    });
    let mut silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(3), silent.read_to_end(&mut buf))
        .await
        .expect("the listener closes a silent connection after its read timeout");
    assert_eq!(read.unwrap(), 0, "closed without an answer");
    assert!(!serve.is_finished(), "and keeps waiting for the redirect");
    serve.abort();
}
