//! JWT authentication with real tokens: HS256 with a secret, RS256 and ES256 through a JWKS file
//! and a JWKS served over HTTP on 127.0.0.1, every way a token is refused, and the configuration
//! errors that stop the server at startup.

#[path = "auth/support.rs"]
mod support;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use support::*;
use sync_runtime::auth::{
    AuthConfig, AuthConfigError, AuthError, Authenticator, INSECURE_DEV_WARNING, JwksSource,
};

/// An authenticator with the given secret and JWKS document (written to a file), default claims
/// rules otherwise.
async fn authenticator(secret: Option<&[u8]>, jwks_document: Option<Value>) -> Authenticator {
    try_authenticator(secret, jwks_document).await.expect("a valid configuration")
}

async fn try_authenticator(
    secret: Option<&[u8]>,
    jwks_document: Option<Value>,
) -> Result<Authenticator, AuthConfigError> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let jwks = jwks_document.map(|document| {
        let path = dir.path().join("jwks.json");
        std::fs::write(&path, document.to_string()).expect("write the JWKS file");
        JwksSource::File(path)
    });
    let config =
        AuthConfig { hs256_secret: secret.map(<[u8]>::to_vec), jwks, ..Default::default() };
    Authenticator::new(config).await
}

/// Secret and JWKS (the RSA and EC keys) both configured.
async fn full() -> Authenticator {
    let keys = keys();
    authenticator(Some(SECRET), Some(jwks(&[&keys.rsa_jwk, &keys.ec_jwk]))).await
}

async fn jwks_only() -> Authenticator {
    let keys = keys();
    authenticator(None, Some(jwks(&[&keys.rsa_jwk, &keys.ec_jwk]))).await
}

/// Authenticates `token` as a bearer token and checks that the error neither repeats the token
/// nor its signature.
async fn refuse(auth: &Authenticator, token: &str) -> AuthError {
    let error = auth.authenticate(Some(&bearer(token))).await.expect_err("the token is refused");
    let message = error.to_string();
    let signature = token.rsplit('.').next().unwrap_or(token);
    assert!(!message.contains(token), "the message repeats the token: {message}");
    assert!(signature.len() < 8 || !message.contains(signature), "it repeats the signature");
    error
}

#[tokio::test]
async fn hs256_rs256_and_es256_tokens_are_accepted() {
    let auth = full().await;
    for token in [hs256(&good_claims()), rs256(&good_claims()), es256(&good_claims())] {
        assert_eq!(auth.authenticate(Some(&bearer(&token))).await, Ok("user-1".to_owned()));
    }
    // The scheme is case-insensitive, and `aud` may be an array holding the audience.
    let token = hs256(&claims_with(json!({ "aud": ["authenticated", "other"] })));
    assert_eq!(auth.authenticate(Some(&format!("bearer  {token}"))).await, Ok("user-1".to_owned()));
    assert!(!auth.is_insecure_dev());
}

#[tokio::test]
async fn a_token_without_kid_uses_the_only_key_of_its_algorithm() {
    let keys = keys();
    let auth = jwks_only().await;
    let token = sign(Algorithm::ES256, None, &good_claims(), &keys.ec);
    assert_eq!(auth.authenticate(Some(&bearer(&token))).await, Ok("user-1".to_owned()));

    let mut second_ec = keys.ec_jwk.clone();
    second_ec["kid"] = json!("ec-2");
    let two_ec_keys = authenticator(None, Some(jwks(&[&keys.ec_jwk, &second_ec]))).await;
    assert_eq!(refuse(&two_ec_keys, &token).await, AuthError::MissingKid { alg: "ES256" });
}

#[tokio::test]
async fn bad_tokens_are_refused_with_the_reason() {
    let keys = keys();
    let auth = full().await;
    let good = good_claims();

    assert_eq!(auth.authenticate(None).await, Err(AuthError::MissingHeader));
    assert_eq!(auth.authenticate(Some("Basic dXNlcjpwYXNz")).await, Err(AuthError::NotBearer));
    assert_eq!(auth.authenticate(Some(&hs256(&good))).await, Err(AuthError::NotBearer));
    assert_eq!(auth.authenticate(Some("Bearer   ")).await, Err(AuthError::EmptyToken));

    for malformed in ["not-a-jwt", "a.b.c", "a.b.c.d", "e30.e30.", "eyJhbGciOiJIUzI1NiJ9.%%%.x"] {
        assert!(
            matches!(refuse(&auth, malformed).await, AuthError::Malformed { .. }),
            "{malformed} is malformed"
        );
    }

    let unsigned =
        format!("{}.{}.", b64_json(&json!({ "alg": "none", "typ": "JWT" })), b64_json(&good));
    assert_eq!(refuse(&auth, &unsigned).await, AuthError::AlgNone);
    let unsigned = format!("{}.{}.", b64_json(&json!({ "alg": "None" })), b64_json(&good));
    assert_eq!(refuse(&auth, &unsigned).await, AuthError::AlgNone);

    let hs512 = sign(Algorithm::HS512, None, &good, &EncodingKey::from_secret(SECRET));
    assert_eq!(
        refuse(&auth, &hs512).await,
        AuthError::UnsupportedAlgorithm { alg: "HS512".into() }
    );

    // Wrong key: another secret, another EC key under the known kid, an altered payload.
    let other_secret = sign(Algorithm::HS256, None, &good, &EncodingKey::from_secret(&[7; 32]));
    assert_eq!(refuse(&auth, &other_secret).await, AuthError::BadSignature);
    let other_ec = sign(Algorithm::ES256, Some("ec-1"), &good, &keys.other_ec);
    assert_eq!(refuse(&auth, &other_ec).await, AuthError::BadSignature);
    let genuine = rs256(&good);
    let mut parts: Vec<&str> = genuine.split('.').collect();
    let forged_claims = b64_json(&claims_with(json!({ "sub": "admin" })));
    parts[1] = &forged_claims;
    assert_eq!(refuse(&auth, &parts.join(".")).await, AuthError::BadSignature);

    // Wrong algorithm for the key the kid names.
    let es256_under_rsa_kid = sign(Algorithm::ES256, Some("rsa-1"), &good, &keys.ec);
    assert_eq!(
        refuse(&auth, &es256_under_rsa_kid).await,
        AuthError::KeyAlgorithmMismatch { alg: "ES256", kid: "rsa-1".into(), key_alg: "RS256" }
    );

    assert_eq!(
        refuse(&auth, &sign(Algorithm::RS256, Some("rsa-9"), &good, &keys.rsa)).await,
        AuthError::UnknownKid { kid: "rsa-9".into() }
    );

    let expired = hs256(&claims_with(json!({ "exp": now() - 3600 })));
    assert_eq!(refuse(&auth, &expired).await, AuthError::Expired);
    let not_yet = es256(&claims_with(json!({ "nbf": now() + 3600 })));
    assert_eq!(refuse(&auth, &not_yet).await, AuthError::NotYetValid);
    let anon = rs256(&claims_with(json!({ "aud": "anon" })));
    assert_eq!(
        refuse(&auth, &anon).await,
        AuthError::WrongAudience { expected: "authenticated".into() }
    );
    let no_aud = hs256(&claims_with(json!({ "aud": null })));
    assert_eq!(refuse(&auth, &no_aud).await, AuthError::MissingClaim { claim: "aud".into() });
    let no_exp = hs256(&claims_with(json!({ "exp": null })));
    assert_eq!(refuse(&auth, &no_exp).await, AuthError::MissingClaim { claim: "exp".into() });
    let text_exp = hs256(&claims_with(json!({ "exp": "tomorrow" })));
    assert_eq!(refuse(&auth, &text_exp).await, AuthError::MissingClaim { claim: "exp".into() });
    let text_nbf = hs256(&claims_with(json!({ "nbf": "soon" })));
    assert_eq!(refuse(&auth, &text_nbf).await, AuthError::InvalidClaim { claim: "nbf".into() });
    for sub in [json!(null), json!(""), json!(42)] {
        let token = es256(&claims_with(json!({ "sub": sub })));
        assert_eq!(refuse(&auth, &token).await, AuthError::MissingSubject, "sub {sub}");
    }

    let mut header = Header::new(Algorithm::HS256);
    header.crit = Some(vec!["exp".to_owned()]);
    let crit = jsonwebtoken::encode(&header, &good, &EncodingKey::from_secret(SECRET)).unwrap();
    assert!(matches!(refuse(&auth, &crit).await, AuthError::Malformed { .. }));
}

#[tokio::test]
async fn an_algorithm_without_a_configured_key_is_refused() {
    let keys = keys();
    let jwks_only = jwks_only().await;
    let hs256_alg =
        AuthError::AlgorithmNotConfigured { alg: "HS256", missing: "HS256 shared secret" };
    assert_eq!(refuse(&jwks_only, &hs256(&good_claims())).await, hs256_alg);

    let secret_only = authenticator(Some(SECRET), None).await;
    assert_eq!(
        refuse(&secret_only, &rs256(&good_claims())).await,
        AuthError::AlgorithmNotConfigured { alg: "RS256", missing: "JWKS" }
    );
    assert_eq!(
        refuse(&secret_only, &es256(&good_claims())).await,
        AuthError::AlgorithmNotConfigured { alg: "ES256", missing: "JWKS" }
    );
    // The confusion attack: an HS256 token whose HMAC secret is the RSA public key its kid names.
    // The public key is never used as a secret: with only a JWKS there is no HS256 key at all, and
    // with a secret too the signature is checked against the secret.
    for public_secret in [keys.rsa_public_der.clone(), keys.rsa_jwk.to_string().into_bytes()] {
        let header = json!({ "alg": "HS256", "typ": "JWT", "kid": "rsa-1" });
        let confused = hmac_signed(&header, &good_claims(), &public_secret);
        assert_eq!(refuse(&jwks_only, &confused).await, hs256_alg);
        assert_eq!(refuse(&full().await, &confused).await, AuthError::BadSignature);
        // The same HMAC under an RS256 header does not verify as an RSA signature either.
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": "rsa-1" });
        let confused = hmac_signed(&header, &good_claims(), &public_secret);
        assert_eq!(refuse(&jwks_only, &confused).await, AuthError::BadSignature);
    }
}

#[tokio::test]
async fn leeway_tolerates_small_clock_skew() {
    let just_expired = hs256(&claims_with(json!({ "exp": now() - 3 })));
    let tolerant = authenticator(Some(SECRET), None).await;
    assert_eq!(tolerant.authenticate(Some(&bearer(&just_expired))).await, Ok("user-1".to_owned()));
    let config =
        AuthConfig { hs256_secret: Some(SECRET.to_vec()), leeway_secs: 0, ..Default::default() };
    let strict = Authenticator::new(config).await.unwrap();
    assert_eq!(refuse(&strict, &just_expired).await, AuthError::Expired);
}

#[tokio::test]
async fn a_jwks_url_is_fetched_cached_and_refetched_for_an_unknown_kid() {
    let keys = keys();
    let server = JwksServer::start(jwks(&[&keys.rsa_jwk])).await;
    let config =
        AuthConfig { jwks: Some(JwksSource::Url(server.url.clone())), ..Default::default() };
    let auth = Authenticator::new(config).await.expect("the JWKS URL loads");
    assert_eq!(server.hits(), 1);

    for _ in 0..3 {
        assert_eq!(
            auth.authenticate(Some(&bearer(&rs256(&good_claims())))).await,
            Ok("user-1".into())
        );
    }
    assert_eq!(server.hits(), 1, "known keys are served from the cache");

    // The provider rotates in an EC key: the first token naming it makes us refetch.
    server.replace(jwks(&[&keys.rsa_jwk, &keys.ec_jwk]));
    assert_eq!(auth.authenticate(Some(&bearer(&es256(&good_claims())))).await, Ok("user-1".into()));
    assert_eq!(server.hits(), 2);
    let clone = auth.clone();
    assert_eq!(
        clone.authenticate(Some(&bearer(&es256(&good_claims())))).await,
        Ok("user-1".into())
    );
    assert_eq!(server.hits(), 2, "clones share the cache");

    // Tokens with made-up key ids are refused without refetching again so soon.
    for n in 0..20 {
        let kid = format!("made-up-{n}");
        let token = sign(Algorithm::RS256, Some(&kid), &good_claims(), &keys.rsa);
        assert_eq!(refuse(&auth, &token).await, AuthError::UnknownKid { kid });
    }
    assert_eq!(server.hits(), 2, "unknown kids are rate-limited");
}

#[tokio::test]
async fn a_bad_jwks_url_refuses_the_configuration() {
    let url_config =
        |url: String| AuthConfig { jwks: Some(JwksSource::Url(url)), ..Default::default() };

    let server = JwksServer::start(json!({ "hello": "world" })).await;
    let error = Authenticator::new(url_config(server.url.clone())).await.unwrap_err();
    assert!(matches!(error, AuthConfigError::JwksInvalid { .. }), "{error}");

    let missing = server.url.replace("jwks.json", "missing.json");
    let error = Authenticator::new(url_config(missing)).await.unwrap_err();
    assert!(error.to_string().contains("404"), "{error}");

    // A port nobody listens on: bind one, then let it go.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    drop(listener);
    let error = Authenticator::new(url_config(closed)).await.unwrap_err();
    assert!(matches!(error, AuthConfigError::JwksFetch { .. }), "{error}");

    let error =
        Authenticator::new(url_config("ftp://127.0.0.1/jwks.json".into())).await.unwrap_err();
    assert!(matches!(error, AuthConfigError::JwksUrl { .. }), "{error}");
}

#[tokio::test]
async fn configurations_that_cannot_authenticate_are_refused() {
    let error = Authenticator::new(AuthConfig::default()).await.unwrap_err();
    assert!(matches!(error, AuthConfigError::NoKey), "{error}");

    let error = try_authenticator(Some(b"too-short"), None).await.unwrap_err();
    assert!(matches!(error, AuthConfigError::ShortSecret { len: 9, min: 32 }), "{error}");

    let config = AuthConfig {
        hs256_secret: Some(SECRET.to_vec()),
        insecure_dev: true,
        ..Default::default()
    };
    let error = Authenticator::new(config).await.unwrap_err();
    assert!(matches!(error, AuthConfigError::InsecureDevWithKey), "{error}");

    let config = AuthConfig {
        hs256_secret: Some(SECRET.to_vec()),
        audience: String::new(),
        ..Default::default()
    };
    let error = Authenticator::new(config).await.unwrap_err();
    assert!(matches!(error, AuthConfigError::EmptyAudience), "{error}");

    let missing = JwksSource::File("/nonexistent/jwks.json".into());
    let error = Authenticator::new(AuthConfig { jwks: Some(missing), ..Default::default() }).await;
    assert!(matches!(error, Err(AuthConfigError::JwksFile { .. })));

    // Only keys we cannot verify with: a symmetric key and an encryption key.
    let oct =
        json!({ "kty": "oct", "kid": "k", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA" });
    let mut enc = keys().rsa_jwk.clone();
    enc["use"] = json!("enc");
    let error = try_authenticator(None, Some(jwks(&[&oct, &enc]))).await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("no RS256 or ES256 signing key"), "{message}");
    assert!(message.contains("symmetric") && message.contains("encryption"), "{message}");

    // A key we cannot read is skipped; the others still serve.
    let odd = json!({ "kty": "XYZ", "kid": "odd" });
    let auth = authenticator(None, Some(jwks(&[&odd, &keys().ec_jwk]))).await;
    assert_eq!(auth.authenticate(Some(&bearer(&es256(&good_claims())))).await, Ok("user-1".into()));
}

#[tokio::test]
async fn insecure_dev_auth_takes_the_bearer_value_as_the_user_id() {
    let auth = Authenticator::new(AuthConfig { insecure_dev: true, ..Default::default() })
        .await
        .expect("insecure dev auth needs no key");
    assert!(auth.is_insecure_dev());
    assert!(INSECURE_DEV_WARNING.contains("INSECURE"));
    assert_eq!(
        auth.authenticate(Some("Bearer alice@example.com")).await,
        Ok("alice@example.com".into())
    );
    assert_eq!(auth.authenticate(None).await, Err(AuthError::MissingHeader));
    assert!(matches!(
        auth.authenticate(Some(&bearer(&hs256(&good_claims())))).await,
        Err(AuthError::InvalidDevUserId { .. })
    ));
    assert!(matches!(
        auth.authenticate(Some("Bearer alice smith")).await,
        Err(AuthError::InvalidDevUserId { .. })
    ));
}

#[tokio::test]
async fn the_authenticator_is_shareable_and_the_secret_stays_out_of_debug_output() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<Authenticator>();
    let config = AuthConfig { hs256_secret: Some(SECRET.to_vec()), ..Default::default() };
    let debug = format!("{config:?}");
    assert!(!debug.contains(std::str::from_utf8(SECRET).unwrap()), "{debug}");
    let auth = Authenticator::new(config).await.unwrap();
    assert!(!format!("{auth:?}").contains("test-only"));
    assert_eq!(
        JwksSource::from_arg("https://id.example/jwks.json"),
        JwksSource::Url("https://id.example/jwks.json".into())
    );
    assert_eq!(JwksSource::from_arg("keys/jwks.json"), JwksSource::File("keys/jwks.json".into()));
}
