package main

import (
	"errors"
	"fmt"
	"sync"
)

// ErrEmpty is returned when the queue has nothing to give.
var ErrEmpty = errors.New("queue: empty")

type Queue[T any] struct {
	mu    sync.Mutex
	items []T
}

func (q *Queue[T]) Push(x T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append(q.items, x)
}

func (q *Queue[T]) Pop() (T, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var zero T
	if len(q.items) == 0 {
		return zero, ErrEmpty
	}
	x := q.items[0]
	q.items = q.items[1:]
	return x, nil
}

func main() {
	var q Queue[string]
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) { defer wg.Done(); q.Push(fmt.Sprintf("job-%02d", i)) }(i)
	}
	wg.Wait()
	for {
		x, err := q.Pop()
		if errors.Is(err, ErrEmpty) {
			break
		}
		fmt.Printf("%q\n", x)
	}
}
