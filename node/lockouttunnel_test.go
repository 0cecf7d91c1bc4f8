package node

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestLockoutNotEvadedThroughATunnel: behind a TLS terminator or tunnel
// beside the node that forwards the bytes as they come (stunnel, haproxy
// in tcp mode, ssh -L: every request from this machine's address, the
// headers the stranger wrote), a stranger's wrong tokens must still lock
// it out: the X-Forwarded-For it writes itself is no proxy's word.
func TestLockoutNotEvadedThroughATunnel(t *testing.T) {
	n := startNode(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", n.HTTPAddr())
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
	body := `{"display_name": "x", "descriptions": {"en": {"short_description": "x"}}}`
	for i := range 12 {
		req, err := http.NewRequest("POST", "http://"+lis.Addr().String()+"/v1/origins/fr/tools?tool_id=x", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", fmt.Sprintf("Bearer guess-%d-0123456789", i))
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1)) // the stranger's own word
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			return
		}
	}
	t.Errorf("12 wrong admin tokens of one stranger through a tunnel beside the node, none refused as too many: each named itself another address in X-Forwarded-For")
}
