package clamd

import (
	"bufio"
	"net"
	"testing"

	"github.com/qscan/qscan/test/fakeclamd"
)

// startFake serves handle as clamd on a unix socket of its own until the
// test ends (see fakeclamd: sessions, numbered answers).
func startFake(t *testing.T, handle func(cmd string, r *bufio.Reader, w net.Conn)) *fakeclamd.Server {
	t.Helper()
	return fakeclamd.Start(t, "unix", handle)
}

// readStream reads an INSTREAM stream to its end.
func readStream(r *bufio.Reader) ([]byte, error) { return fakeclamd.ReadStream(r, 0) }

// answer returns a handler that answers INSTREAM with reply(data).
func answer(reply func(data []byte) string) fakeclamd.Handler { return fakeclamd.Answer(0, reply) }

// eicarReply answers like a clamd with the EICAR signature.
var eicarReply = fakeclamd.EICAR
