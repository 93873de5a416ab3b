package rebuild

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/jhillyerd/enmime/v2"

	"github.com/qscan/qscan/pkg/mimetree"
)

// libParts maps MIME paths to the parts an independent MIME library
// (enmime) sees there, numbered as the walk numbers them.
type libParts map[string]*enmime.Part

// readLib parses the message with enmime configured as pkg/explode
// configures it for part headers.
func readLib(raw []byte, prefix string, out libParts, depth, maxDepth int) error {
	if depth > maxDepth {
		return fmt.Errorf("rebuild verify: %w: more than %d levels", ErrTooComplex, maxDepth)
	}
	p := enmime.NewParser(enmime.RawContent(true), enmime.SkipMalformedParts(true),
		enmime.MultipartWOBoundaryAsSinglePart(true), enmime.DisableCharacterDetection(true),
		enmime.DisableTextConversion(true), enmime.MaxStoredPartErrors(20))
	root, err := p.ReadParts(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("rebuild verify: %w: %v", ErrAmbiguous, err)
	}
	stack := []*enmime.Part{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		id := strings.TrimSuffix(n.PartID, ".0")
		if id == "0" || id == "" {
			id = "1"
		}
		path := join(prefix, id)
		if n != root || n.FirstChild == nil {
			out[path] = n
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			stack = append(stack, c)
		}
		ct := strings.ToLower(n.ContentType)
		if n.FirstChild == nil && (ct == "message/rfc822" || ct == "message/global") &&
			mimetree.IsIdentityCTE(n.Header.Get("Content-Transfer-Encoding")) {
			if err := readLib(n.Content, path, out, depth+1, maxDepth); err != nil {
				return err
			}
		}
	}
	return nil
}

// verify checks that each target's bytes are what the MIME library sees
// at the same path: where the two readings of a malformed message differ,
// Rebuild could cut a clean part and leave the one that was found bad.
func verify(t *mimetree.Tree, header []byte, targets []*target, maxDepth int) error {
	raw := make([]byte, 0, len(header)+2+len(t.Body))
	raw = append(raw, header...)
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		raw = append(raw, '\n')
	}
	raw = append(raw, '\n')
	raw = append(raw, t.Body...)
	lib := libParts{}
	if err := readLib(raw, "", lib, 0, maxDepth); err != nil {
		return err
	}
	for _, tg := range targets {
		n := tg.n
		if n.Top {
			continue // the whole body goes, whoever reads it
		}
		p, ok := lib[n.Path]
		if !ok {
			return fmt.Errorf("rebuild verify %s: %w: the MIME library sees no such part", n.Path, ErrAmbiguous)
		}
		if n.IsMultipart() || p.FirstChild != nil {
			if n.IsMultipart() != (p.FirstChild != nil) {
				return fmt.Errorf("rebuild verify %s: %w: multipart on one reading only", n.Path, ErrAmbiguous)
			}
			continue
		}
		ours := bytes.TrimRight(t.Body[n.BodyStart:n.End], "\r\n")
		if !bytes.Equal(ours, bytes.TrimRight(p.Content, "\r\n")) {
			return fmt.Errorf("rebuild verify %s: %w: the MIME library reads other bytes there", n.Path, ErrAmbiguous)
		}
	}
	return nil
}

// join puts a MIME path below prefix, as the walk numbers them.
func join(prefix, id string) string {
	if prefix == "" {
		return id
	}
	return prefix + "." + id
}
