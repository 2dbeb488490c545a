package digest

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// SlowEntry is one line of the slow log.
type SlowEntry struct {
	Time        time.Time `json:"time"`
	Namespace   string    `json:"namespace"`
	User        string    `json:"user"`
	Digest      string    `json:"digest"`
	Fingerprint string    `json:"fingerprint"`
	SQL         string    `json:"sql"`
	Route       string    `json:"route"`
	Slices      []string  `json:"slices,omitempty"`
	DurationMS  float64   `json:"duration_ms"`
	Rows        int64     `json:"rows"`
	Error       string    `json:"error,omitempty"`
}

// SlowLog appends JSON lines to a file, rotating it at maxSize bytes and
// keeping keep older files (file.1 is the newest). It is safe for
// concurrent use.
type SlowLog struct {
	mu      sync.Mutex
	path    string
	maxSize int64
	keep    int
	f       *os.File
	size    int64
}

// OpenSlowLog opens (appends to) path.
func OpenSlowLog(path string, maxSize int64, keep int) (*SlowLog, error) {
	l := &SlowLog{path: path, maxSize: maxSize, keep: keep}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *SlowLog) open() error {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("slow log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("slow log: %w", err)
	}
	l.f, l.size = f, st.Size()
	return nil
}

// Write appends one entry, rotating first when the file is full.
func (l *SlowLog) Write(e *SlowEntry) error {
	if l == nil {
		return nil
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return fmt.Errorf("slow log closed")
	}
	if l.maxSize > 0 && l.size > 0 && l.size+int64(len(b)) > l.maxSize {
		if err := l.rotate(); err != nil {
			return err
		}
	}
	n, err := l.f.Write(b)
	l.size += int64(n)
	return err
}

// rotate shifts file.N-1 -> file.N ... file -> file.1; called with l.mu
// held.
func (l *SlowLog) rotate() error {
	l.f.Close()
	l.f = nil
	if l.keep > 0 {
		_ = os.Remove(fmt.Sprintf("%s.%d", l.path, l.keep))
		for i := l.keep - 1; i >= 1; i-- {
			_ = os.Rename(fmt.Sprintf("%s.%d", l.path, i), fmt.Sprintf("%s.%d", l.path, i+1))
		}
		if err := os.Rename(l.path, l.path+".1"); err != nil {
			return fmt.Errorf("slow log: %w", err)
		}
	} else if err := os.Truncate(l.path, 0); err != nil {
		return fmt.Errorf("slow log: %w", err)
	}
	return l.open()
}

// Close closes the file.
func (l *SlowLog) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
