package virus

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// EICAR is the 68-byte EICAR test string, which every engine must find.
const EICAR = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// SelfTest scans EICAR, which must be found, and a line of plain text,
// which must not, as MailScanner's --lint tests its scanners. It returns
// what it learnt and every problem found.
func SelfTest(ctx context.Context, s Scanner) (info []string, errs []error) {
	res, err := s.Scan(ctx, strings.NewReader(EICAR))
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("scan of EICAR: %w", err))
	case !res.Infected():
		errs = append(errs, errors.New("scan of EICAR: not detected (are the signatures loaded?)"))
	default:
		info = append(info, "EICAR found as "+strings.Join(res.Names(), ","))
	}
	res, err = s.Scan(ctx, strings.NewReader("qscan lint: a few clean bytes\n"))
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("scan of clean text: %w", err))
	case res.Infected():
		errs = append(errs, fmt.Errorf("scan of clean text: found %s", strings.Join(res.Names(), ",")))
	default:
		info = append(info, "clean text passed")
	}
	return info, errs
}
