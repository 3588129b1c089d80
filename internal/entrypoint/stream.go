/*
Copyright 2026 The asyncjob Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package entrypoint

import (
	"bytes"
	"io"
)

// copyBufferBytes is how much of the command's output one read takes.
const copyBufferBytes = 32 << 10

// copyLines copies src to dst as it arrives, chunk by chunk, and hands every
// line to onLine on the side. dst gets the bytes before onLine sees them, and
// nothing waits for a line to end, so the output is never held back. A line
// ends at '\n' or '\r' (progress bars redraw with '\r'); empty lines are
// skipped. A line longer than maxLine reaches onLine as its first maxLine
// bytes with truncated set, once. Write errors on dst are ignored: src must
// still be drained, or the command would block on a full pipe.
func copyLines(src io.Reader, dst io.Writer, maxLine int, onLine func(line []byte, truncated bool)) {
	buf := make([]byte, copyBufferBytes)
	var line []byte
	overflow := false
	for {
		n, err := src.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			_, _ = dst.Write(chunk)
			for len(chunk) > 0 {
				i := bytes.IndexAny(chunk, "\r\n")
				part := chunk
				if i >= 0 {
					part = chunk[:i]
				}
				if !overflow {
					if room := maxLine - len(line); len(part) > room {
						line = append(line, part[:room]...)
						onLine(line, true)
						overflow = true
					} else {
						line = append(line, part...)
					}
				}
				if i < 0 {
					break
				}
				if !overflow && len(line) > 0 {
					onLine(line, false)
				}
				line, overflow = line[:0], false
				chunk = chunk[i+1:]
			}
		}
		if err != nil {
			if !overflow && len(line) > 0 {
				onLine(line, false)
			}
			return
		}
	}
}
