# Sourced by scripts: starts moto on a free loopback port and stops it on exit.
# Sets AWS_ENDPOINT_URL and dummy credentials for the SDK and the tests. With
# EMULATOR_REQUEST_LOG=<path>, moto appends every DynamoDB request to <path>
# (scripts/moto_server.py), for scripts/check-iam.py.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_emulator() {
  local port
  port=$(free_port)
  .venv/bin/python scripts/moto_server.py -H 127.0.0.1 -p "$port" > "${EMULATOR_LOG:-/dev/null}" 2>&1 &
  EMULATOR_PID=$!
  trap 'kill "$EMULATOR_PID" 2>/dev/null || true' EXIT
  for _ in $(seq 1 300); do
    if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
      export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
      export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
      return 0
    fi
    sleep 0.1
  done
  echo "emulator: moto did not start on port $port" >&2
  return 1
}
