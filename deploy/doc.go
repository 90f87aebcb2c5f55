// Package deploy holds the compose file and Kubernetes manifests of
// forstok-accurate-sync. It has no code: its test parses every manifest and
// checks it against the environment the service actually reads, so a renamed
// setting or a missing secret fails `go test ./...` instead of a rollout.
package deploy
