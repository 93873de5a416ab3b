package pipeline

import (
	"context"
	"fmt"
	"sync"
)

// undoQueue holds the attempts that could not be taken back (the store
// is on the disk that is full, too). They are taken back before the next
// attempts are counted; until then no attempt is counted, so a message
// held for a fault not its own never drifts towards max_attempts.
type undoQueue struct {
	mu sync.Mutex
	n  map[string]int
}

func (q *undoQueue) add(id string, n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == nil {
		q.n = map[string]int{}
	}
	q.n[id] += n
}

func (q *undoQueue) take() map[string]int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := q.n
	q.n = nil
	return n
}

// undoPending takes back the attempts left in p.undoLater; what still
// cannot be taken back stays there and is the error.
func (p *Pipeline) undoPending(ctx context.Context) error {
	var first error
	for id, n := range p.undoLater.take() {
		for ; n > 0 && first == nil; n-- {
			if err := p.attempts.UndoAttempt(ctx, id); err != nil {
				first = fmt.Errorf("take back the attempts of held messages: %w", err)
				break
			}
		}
		if n > 0 {
			p.undoLater.add(id, n)
		}
	}
	return first
}
