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

package main

import (
	"net/netip"
	"testing"
	"time"
)

func TestWebhookOptionsFromFlags(t *testing.T) {
	opts, err := webhookOptions(3*time.Second, " 10.1.0.0/16, 127.0.0.0/8 ", "1s,2s")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Timeout != 3*time.Second || len(opts.Schedule) != 2 || opts.Schedule[1] != 2*time.Second || opts.Render == nil {
		t.Errorf("options %+v", opts)
	}
	if err := opts.Policy.CheckAddr(netip.MustParseAddr("10.1.2.3")); err != nil {
		t.Errorf("an allowed range is refused: %v", err)
	}
	if err := opts.Policy.CheckAddr(netip.MustParseAddr("10.2.0.1")); err == nil {
		t.Error("a private address outside the allowed ranges is allowed")
	}
	def, err := webhookOptions(10*time.Second, "", "")
	if err != nil || len(def.Schedule) != 0 || len(def.Policy.Allowed) != 0 {
		t.Errorf("defaults: %+v, %v", def, err)
	}
	for _, bad := range [][2]string{{"10.0.0.0", ""}, {"", "1s,x"}} {
		if _, err := webhookOptions(time.Second, bad[0], bad[1]); err == nil {
			t.Errorf("webhookOptions accepted %q", bad)
		}
	}
}
