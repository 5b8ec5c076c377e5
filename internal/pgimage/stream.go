package pgimage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// message is one JSON object of the engine's import or pull stream.
type message struct {
	Status      string `json:"status"`
	ID          string `json:"id"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
}

// decodeStream calls fn for each message of r until r ends or a message
// carries an error, which it returns.
func decodeStream(r io.Reader, fn func(message) error) error {
	dec := json.NewDecoder(r)
	for {
		var m message
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read the engine's answer: %w", err)
		}
		msg := m.Error
		if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
			msg = m.ErrorDetail.Message
		}
		if msg != "" {
			return errors.New(strings.TrimSpace(msg))
		}
		if err := fn(m); err != nil {
			return err
		}
	}
}

// progressLines prints one line per layer and status: "Downloading" once,
// not once per chunk received.
type progressLines struct {
	w    io.Writer
	last map[string]string
}

func (p *progressLines) show(m message) error {
	if m.Status == "" {
		return nil
	}
	line := m.Status
	if m.ID != "" {
		if p.last[m.ID] == m.Status {
			return nil
		}
		p.last[m.ID] = m.Status
		line = m.ID + ": " + m.Status
	}
	if _, err := fmt.Fprintln(p.w, line); err != nil {
		return fmt.Errorf("write progress: %w", err)
	}
	return nil
}
