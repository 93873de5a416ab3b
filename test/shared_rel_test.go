//go:build e2e && reliability

package test

// The reliability run drains the full 1,000 messages through the
// PostgreSQL outage (make reliability).
func init() { outageMessages = 1000 }
