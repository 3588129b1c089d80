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

// Package chart tests the Helm chart in charts/asyncjob without a cluster:
// `helm lint`, and `helm template` with default and non-default values, the
// rendered objects decoded (strictly) into their Go types. The helm binary
// comes from $HELM or bin/helm (`make helm`).
package chart

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/asyncjob/asyncjob/test/framework"
)

const (
	release   = "asyncjob"
	namespace = "asyncjob-system"
)

var chartDir = filepath.Join(framework.RepoRoot(), "charts", "asyncjob")

// helmBinary is $HELM (a path relative to the repository's root, an absolute
// path, or a command on PATH), else bin/helm; without either the test skips.
func helmBinary(t *testing.T) string {
	t.Helper()
	h := os.Getenv("HELM")
	if h == "" {
		local := filepath.Join(framework.RepoRoot(), "bin", "helm")
		if _, err := os.Stat(local); err != nil {
			t.Skip("skipped: no helm binary: set HELM or run `make helm` (builds bin/helm)")
		}
		return local
	}
	if !filepath.IsAbs(h) && strings.ContainsRune(h, filepath.Separator) {
		h = filepath.Join(framework.RepoRoot(), h)
	}
	path, err := exec.LookPath(h)
	if err != nil {
		t.Fatalf("HELM=%s: %v", os.Getenv("HELM"), err)
	}
	return path
}

// runHelm runs helm with args and returns its stdout and stderr.
func runHelm(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(helmBinary(t), args...)
	// Keep helm away from the caller's configuration and cluster.
	home := t.TempDir()
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+filepath.Join(home, "no-kubeconfig"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if d := time.Since(start); d > 5*time.Second {
		t.Logf("helm %s took %s", strings.Join(args, " "), d.Round(time.Millisecond))
	}
	return stdout.String(), stderr.String(), err
}

// object is one rendered document.
type object struct {
	Kind      string
	Name      string
	Namespace string
	Labels    map[string]string
	raw       []byte
}

// rendered is the output of `helm template`.
type rendered struct {
	objects []object
}

// render runs `helm template` on the chart (release asyncjob in namespace
// asyncjob-system) with extra args such as --set and -f, and fails the test
// if helm fails.
func render(t *testing.T, args ...string) rendered {
	t.Helper()
	return renderChart(t, chartDir, args...)
}

func renderChart(t *testing.T, dir string, args ...string) rendered {
	t.Helper()
	stdout, stderr, err := runHelm(t, append([]string{"template", release, dir, "--namespace", namespace}, args...)...)
	if err != nil {
		t.Fatalf("helm template %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	var r rendered
	reader := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(stdout)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading helm's output: %v", err)
		}
		var meta struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name      string            `json:"name"`
				Namespace string            `json:"namespace"`
				Labels    map[string]string `json:"labels"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatalf("a rendered document is not YAML: %v\n%s", err, doc)
		}
		if meta.Kind == "" {
			continue // only comments
		}
		r.objects = append(r.objects, object{Kind: meta.Kind, Name: meta.Metadata.Name,
			Namespace: meta.Metadata.Namespace, Labels: meta.Metadata.Labels, raw: doc})
	}
	return r
}

// find returns the objects of a kind.
func (r rendered) find(kind string) []object {
	var out []object
	for _, o := range r.objects {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

// has says whether an object of this kind and name was rendered.
func (r rendered) has(kind, name string) bool {
	for _, o := range r.objects {
		if o.Kind == kind && o.Name == name {
			return true
		}
	}
	return false
}

// get decodes the object of this kind and name into into, strictly: a field
// the Go type does not know (a typo in a template) fails the test.
func (r rendered) get(t *testing.T, kind, name string, into any) {
	t.Helper()
	for _, o := range r.objects {
		if o.Kind == kind && o.Name == name {
			if err := yaml.UnmarshalStrict(o.raw, into); err != nil {
				t.Fatalf("%s %s: %v\n%s", kind, name, err, o.raw)
			}
			return
		}
	}
	t.Fatalf("no %s %s rendered; rendered: %v", kind, name, r.names())
}

// names lists "Kind/name" of every object.
func (r rendered) names() []string {
	out := make([]string, 0, len(r.objects))
	for _, o := range r.objects {
		out = append(out, o.Kind+"/"+o.Name)
	}
	return out
}

// valuesFile writes values to a file for -f.
func valuesFile(t *testing.T, values string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(path, []byte(values), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// renderNotes renders templates/NOTES.txt, which `helm template` leaves out:
// it copies the chart (without its CRDs) and adds a ConfigMap that holds the
// notes.
func renderNotes(t *testing.T, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "asyncjob")
	err := filepath.WalkDir(chartDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(chartDir, path)
		if d.IsDir() {
			if rel == "crds" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), raw, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	notes, err := os.ReadFile(filepath.Join(chartDir, "templates", "NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"_test_notes.tpl": `{{- define "asyncjob.test.notes" -}}` + string(notes) + `{{- end }}`,
		"test-notes.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: test-notes\n" +
			"data:\n  notes: {{ include \"asyncjob.test.notes\" . | toJson }}\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, "templates", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := renderChart(t, dir, append(args, "--show-only", "templates/test-notes.yaml")...)
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if len(r.objects) != 1 {
		t.Fatalf("rendering the notes: %v", r.names())
	}
	if err := yaml.Unmarshal(r.objects[0].raw, &cm); err != nil {
		t.Fatal(err)
	}
	return cm.Data["notes"]
}
