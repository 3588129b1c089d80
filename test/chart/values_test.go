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

package chart

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestSchemaRejectsBadValues: values.schema.json refuses typos and wrong
// values, and helm's message names the offending value.
func TestSchemaRejectsBadValues(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"unknown top-level key", []string{"--set", "replicas=3"}, []string{"additional properties 'replicas' not allowed"}},
		{"typo in a nested key", []string{"--set", "api.rateLimt=5"}, []string{"at '/api'", "additional properties 'rateLimt' not allowed"}},
		{"bad auth mode", []string{"--set", "api.auth.mode=oauth"}, []string{"/api/auth/mode", "apikey", "tokenreview", "none"}},
		{"controller replicas 0", []string{"--set", "controller.replicas=0"}, []string{"/controller/replicas", "minimum"}},
		{"API replicas 0", []string{"--set", "api.replicas=0"}, []string{"/api/replicas", "minimum"}},
		{"job type without template", []string{"--set", "jobTypes.convert.description=x"}, []string{"/jobTypes/convert", "missing property 'template'"}},
		{"job type not an object", []string{"--set", "jobTypes.convert=x"}, []string{"/jobTypes/convert", "object"}},
		{"port out of range", []string{"--set", "api.port=70000"}, []string{"/api/port", "maximum"}},
		{"bad pull policy", []string{"--set", "image.pullPolicy=Sometimes"}, []string{"/image/pullPolicy"}},
		{"bad service type", []string{"--set", "api.service.type=Internal"}, []string{"/api/service/type"}},
		{"namespace template without {tenant}", []string{"--set", "api.tenantNamespaceTemplate=jobs"}, []string{"/api/tenantNamespaceTemplate"}},
		{"wrong type", []string{"--set", "controller.leaderElection.enabled=yes"}, []string{"/controller/leaderElection/enabled", "boolean"}},
		{"callback URL without a scheme", []string{"--set", "controller.callbackURL=asyncjob-api:80"}, []string{"/controller/callbackURL"}},
		{"bad worker token Secret name", []string{"--set", "workerToken.existingSecret=My_Key"}, []string{"/workerToken/existingSecret"}},
		{"unknown default webhook event", []string{"--set-json", `api.webhook.tenantDefaults={"a":{"url":"https://x/","events":["job.done"]}}`}, []string{"/api/webhook/tenantDefaults/a/events/0"}},
		{"default webhook without url", []string{"--set", "api.webhook.tenantDefaults.a.events={job.failed}"}, []string{"/api/webhook/tenantDefaults/a", "missing property 'url'"}},
		{"bad rotation grace", []string{"--set", "api.webhook.rotationGrace=1 day"}, []string{"/api/webhook/rotationGrace"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"template", release, chartDir, "--namespace", namespace}, c.args...)
			_, stderr, err := runHelm(t, args...)
			if err == nil {
				t.Fatalf("helm template %s succeeded, want the schema to refuse it", strings.Join(c.args, " "))
			}
			if !strings.Contains(stderr, "values don't meet the specifications of the schema") {
				t.Errorf("helm failed, but not on the schema:\n%s", stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("helm's error lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestValuesDocumented: every value in values.yaml is in the README's table
// with its default, every row of the table is a value, and the schema knows
// every value. A value whose schema is a free-form object (resources, a
// security context, jobTypes) is one row; objects with properties are
// documented key by key.
func TestValuesDocumented(t *testing.T) {
	t.Parallel()
	var values map[string]any
	raw, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &values); err != nil {
		t.Fatal(err)
	}
	var schema schemaNode
	raw, err = os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatalf("values.schema.json: %v", err)
	}
	raw, err = os.ReadFile(filepath.Join(chartDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `([^`]+)` \\| ([^|]+) \\| `(.*)` \\| (.+) \\|$")
	documented := map[string]string{} // value -> default
	for _, line := range strings.Split(string(raw), "\n") {
		if m := row.FindStringSubmatch(line); m != nil {
			if _, dup := documented[m[1]]; dup {
				t.Errorf("README.md documents %s twice", m[1])
			}
			documented[m[1]] = m[3]
		}
	}
	if len(documented) == 0 {
		t.Fatal("README.md has no table of values (| `value` | type | `default` | description |)")
	}

	leaves := map[string]any{}
	var walk func(path string, v any, node *schemaNode)
	walk = func(path string, v any, node *schemaNode) {
		m, isMap := v.(map[string]any)
		if !isMap || len(m) == 0 || node.Properties == nil {
			leaves[path] = v
			return
		}
		for k, sub := range m {
			p := strings.TrimPrefix(path+"."+k, ".")
			child, ok := node.Properties[k]
			if !ok {
				t.Errorf("values.yaml has %s, values.schema.json does not", p)
				continue
			}
			walk(p, sub, child)
		}
	}
	walk("", values, &schema)

	for path, v := range leaves {
		cell, ok := documented[path]
		if !ok {
			t.Errorf("values.yaml has %s, the README's table of values does not", path)
			continue
		}
		var doc any
		if err := json.Unmarshal([]byte(cell), &doc); err != nil {
			t.Errorf("README.md: the default of %s, `%s`, is not JSON: %v", path, cell, err)
			continue
		}
		if !reflect.DeepEqual(doc, v) {
			want, _ := json.Marshal(v)
			t.Errorf("README.md documents %s with default `%s`; values.yaml has `%s`", path, cell, want)
		}
	}
	for path := range documented {
		if _, ok := leaves[path]; !ok {
			t.Errorf("README.md documents %s, which is not a value in values.yaml", path)
		}
	}
}

// schemaNode is the part of a JSON Schema the documentation test walks.
type schemaNode struct {
	Properties map[string]*schemaNode `json:"properties"`
}
