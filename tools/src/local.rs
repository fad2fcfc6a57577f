//! The local AWS: the emulator process and SDK configuration pointing at it.

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::config::{Credentials, Region, SharedCredentialsProvider};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// SDK configuration for an emulator endpoint, with dummy credentials.
pub async fn aws_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "local-emulator"))
        .load()
        .await
}

/// The same configuration, signing with `access_key_id`: the local stack gives each function
/// its template logical id, so the emulator's request log (`EMULATOR_REQUEST_LOG`) tells which
/// function made each request, for `scripts/check-iam.py` to hold it to that function's policy.
pub fn signing_as(sdk: &aws_config::SdkConfig, access_key_id: &str) -> aws_config::SdkConfig {
    let credentials = Credentials::new(access_key_id, "local", None, None, "local-emulator");
    sdk.to_builder().credentials_provider(SharedCredentialsProvider::new(credentials)).build()
}

/// Starts moto's server on loopback; it is killed (SIGKILL: a busy moto ignores SIGTERM)
/// when the handle is dropped. It runs in a process group of its own, so a terminal's
/// Ctrl-C reaches only `dev`, which then stops it.
pub async fn start_emulator(moto_server: &Path, port: u16) -> Result<Child, String> {
    if TcpStream::connect(("127.0.0.1", port)).is_ok() {
        return Err(format!(
            "port {port} is already in use; set EMULATOR_PORT or AWS_ENDPOINT_URL to use a running emulator"
        ));
    }
    let child = Command::new(moto_server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e} (run `make dev`, which installs it)", moto_server.display()))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(format!("the emulator did not listen on port {port} within 60 s"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(child)
}
