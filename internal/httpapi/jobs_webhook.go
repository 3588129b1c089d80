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

package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/paramschema"
)

// maxWebhookURLLength is spec.webhook.url's bound in the CRD.
const maxWebhookURLLength = 2048

// webhookRequest is the submission's "webhook" member, decoded and
// normalised: events deduplicated and in the enum's order, so two spellings
// of the same request fingerprint alike.
type webhookRequest struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

// webhookEventOrder is every event type, in its canonical order.
var webhookEventOrder = []v1alpha1.WebhookEventType{
	v1alpha1.WebhookJobRunning, v1alpha1.WebhookJobProgress, v1alpha1.WebhookJobCompleted,
	v1alpha1.WebhookJobFailed, v1alpha1.WebhookJobCancelled,
}

// decodeWebhook checks the shape of the "webhook" member: an object with a
// url string and an optional events array of known event types. Whether the
// URL's destination is allowed is the server's policy (checkWebhookURL).
func decodeWebhook(raw json.RawMessage) (*webhookRequest, []paramschema.FieldError) {
	var errs []paramschema.FieldError
	add := func(ptr, detail string) {
		errs = append(errs, paramschema.FieldError{Pointer: ptr, Detail: detail})
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil || members == nil {
		add("/webhook", "must be an object with a url and, optionally, events")
		return nil, errs
	}
	for name := range members {
		if name != "url" && name != "events" {
			add("/webhook"+pointerTo(name), "unknown field; allowed fields are url and events")
		}
	}
	w := &webhookRequest{}
	if rawURL, ok := members["url"]; !ok {
		add("/webhook/url", "is required")
	} else if err := json.Unmarshal(rawURL, &w.URL); err != nil {
		add("/webhook/url", "must be a string")
	} else if w.URL == "" {
		add("/webhook/url", "must not be empty")
	} else if len(w.URL) > maxWebhookURLLength {
		add("/webhook/url", fmt.Sprintf("must be at most %d characters", maxWebhookURLLength))
	}
	if rawEvents, ok := members["events"]; ok && !bytes.Equal(bytes.TrimSpace(rawEvents), []byte("null")) {
		var events []string
		if err := json.Unmarshal(rawEvents, &events); err != nil {
			add("/webhook/events", "must be an array of event types")
		} else {
			var bad []paramschema.FieldError
			w.Events, bad = normaliseEvents(events, "/webhook/events")
			errs = append(errs, bad...)
		}
	}
	return w, errs
}

// normaliseEvents deduplicates events and puts them in canonical order; an
// unknown one is a field error at its index under ptr.
func normaliseEvents(events []string, ptr string) ([]string, []paramschema.FieldError) {
	var errs []paramschema.FieldError
	seen := map[string]bool{}
	for i, e := range events {
		if !knownEvent(e) {
			errs = append(errs, paramschema.FieldError{Pointer: fmt.Sprintf("%s/%d", ptr, i),
				Detail: "unknown event type; known are " + strings.Join(eventNames(), ", ")})
			continue
		}
		seen[e] = true
	}
	var out []string
	for _, e := range webhookEventOrder {
		if seen[string(e)] {
			out = append(out, string(e))
		}
	}
	return out, errs
}

func knownEvent(e string) bool {
	for _, k := range webhookEventOrder {
		if string(k) == e {
			return true
		}
	}
	return false
}

func eventNames() []string {
	out := make([]string, len(webhookEventOrder))
	for i, e := range webhookEventOrder {
		out[i] = string(e)
	}
	return out
}

// checkWebhookURL applies the destination policy to a submitted URL: the
// scheme, no user information, no refused address literal. Host names are
// checked again by the controller each time it connects.
func (s *Server) checkWebhookURL(w *webhookRequest, errs []paramschema.FieldError) []paramschema.FieldError {
	if w == nil || w.URL == "" || len(w.URL) > maxWebhookURLLength {
		return errs
	}
	if err := s.cfg.WebhookPolicy.CheckURL(w.URL); err != nil {
		errs = append(errs, paramschema.FieldError{Pointer: "/webhook/url", Detail: err.Error()})
		sortFieldErrors(errs)
	}
	return errs
}

// webhookSpec is what spec.webhook becomes: the submission's webhook, else
// the tenant's default (the ConfigMap asyncjob-webhook-default in its
// namespace), else none. A default that fails validation is an operator's
// mistake: it is logged and not applied, rather than failing every submission.
func (s *Server) webhookSpec(ctx context.Context, ns string, w *webhookRequest) (*v1alpha1.WebhookSpec, error) {
	if w != nil {
		return toWebhookSpec(w), nil
	}
	data, ok, err := s.store.webhookDefault(ctx, ns)
	if err != nil || !ok {
		return nil, err
	}
	def, errs := parseWebhookDefault(data)
	if len(errs) == 0 && def != nil {
		if err := s.cfg.WebhookPolicy.CheckURL(def.URL); err != nil {
			errs = append(errs, paramschema.FieldError{Pointer: "/url", Detail: err.Error()})
		}
	}
	if len(errs) > 0 {
		s.cfg.Log.Error(nil, "ignoring an invalid default webhook", "namespace", ns, "configMap", WebhookDefaultConfigMap, "errors", errs)
		return nil, nil
	}
	if def == nil {
		return nil, nil
	}
	return toWebhookSpec(def), nil
}

// WebhookDefaultConfigMap is the ConfigMap, in a tenant's namespace, whose
// keys url and events (separated by commas or spaces) give the webhook of
// every submission of that tenant that names none. It must carry the label
// asyncjob.io/config=webhook-default: the API caches only labelled ConfigMaps.
const WebhookDefaultConfigMap = "asyncjob-webhook-default"

// parseWebhookDefault reads the default ConfigMap's data; an empty url means
// no default.
func parseWebhookDefault(data map[string]string) (*webhookRequest, []paramschema.FieldError) {
	u := strings.TrimSpace(data["url"])
	if u == "" {
		return nil, nil
	}
	var errs []paramschema.FieldError
	if len(u) > maxWebhookURLLength {
		errs = append(errs, paramschema.FieldError{Pointer: "/url", Detail: "too long"})
	}
	events := strings.FieldsFunc(data["events"], func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
	norm, bad := normaliseEvents(events, "/events")
	return &webhookRequest{URL: u, Events: norm}, append(errs, bad...)
}

func toWebhookSpec(w *webhookRequest) *v1alpha1.WebhookSpec {
	spec := &v1alpha1.WebhookSpec{URL: w.URL}
	for _, e := range w.Events {
		spec.Events = append(spec.Events, v1alpha1.WebhookEventType(e))
	}
	return spec
}

// effectiveEvents are the events a webhook is sent for: its own, or the
// default ones when it names none.
func effectiveEvents(spec *v1alpha1.WebhookSpec) []string {
	events := spec.Events
	if len(events) == 0 {
		events = v1alpha1.DefaultWebhookEvents
	}
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = string(e)
	}
	sort.SliceStable(out, func(i, j int) bool { return eventRank(out[i]) < eventRank(out[j]) })
	return out
}

func eventRank(e string) int {
	for i, k := range webhookEventOrder {
		if string(k) == e {
			return i
		}
	}
	return len(webhookEventOrder)
}
