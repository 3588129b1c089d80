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

package localcluster

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// FullList is one call that fetched a whole collection, as the audit log
// recorded it: a LIST, or a WATCH asking for the initial state
// (sendInitialEvents=true), which is how newer informers list.
type FullList struct {
	UserAgent string
	Resource  string
	URI       string
	At        time.Time
}

// auditEvent is the part of an audit.k8s.io/v1 Event that FullLists reads.
type auditEvent struct {
	AuditID    string `json:"auditID"`
	Verb       string `json:"verb"`
	RequestURI string `json:"requestURI"`
	UserAgent  string `json:"userAgent"`
	ObjectRef  *struct {
		Resource string `json:"resource"`
	} `json:"objectRef"`
	RequestReceivedTimestamp time.Time `json:"requestReceivedTimestamp"`
}

// FullLists reads the audit log (Options.AuditLog) and returns every full
// list the API server received since since, each once, oldest first.
func (c *Cluster) FullLists(since time.Time) ([]FullList, error) {
	f, err := os.Open(filepath.Join(c.dir, "audit.log"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errors.New("the cluster has no audit log: start it with Options.AuditLog")
	}
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	seen := map[string]bool{}
	var out []FullList
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev auditEvent
		if json.Unmarshal(sc.Bytes(), &ev) != nil || seen[ev.AuditID] {
			continue
		}
		full := ev.Verb == "list" || (ev.Verb == "watch" && strings.Contains(ev.RequestURI, "sendInitialEvents=true"))
		if !full || ev.RequestReceivedTimestamp.Before(since) {
			continue
		}
		seen[ev.AuditID] = true
		l := FullList{UserAgent: ev.UserAgent, URI: ev.RequestURI, At: ev.RequestReceivedTimestamp}
		if ev.ObjectRef != nil {
			l.Resource = ev.ObjectRef.Resource
		}
		out = append(out, l)
	}
	return out, sc.Err()
}
