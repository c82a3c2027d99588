//go:build tools

// Package tools pins the sops command, which decrypts SOPS-encrypted files at render time, and
// age-keygen (from the age module sops itself uses), which the tests make keys with.
package tools

import (
	_ "filippo.io/age/cmd/age-keygen"
	_ "github.com/getsops/sops/v3/cmd/sops"
)
