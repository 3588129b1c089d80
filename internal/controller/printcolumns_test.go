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

package controller

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"

	asyncjobv1alpha1 "github.com/asyncjob/asyncjob/api/v1alpha1"
)

// TestIntegrationPrinterColumns reads the Table the API server renders for
// `kubectl get asyncjobs` (and -o wide), which is what kubectl prints.
func TestIntegrationPrinterColumns(t *testing.T) {
	needEnv(t)
	startController(t)
	ns := newNamespace(t)
	jt := createReadyType(t, convertType(uniqueTypeName(t)).Obj())
	mustCreate(t, convertJob("shown", ns, jt.Name).Obj())
	waitJob(t, ns, "shown")
	eventually(t, "status written", func(ctx context.Context) error {
		aj, err := getAJ(ctx, ns, "shown")
		if err == nil && aj.Status.JobName == "" {
			err = fmt.Errorf("no jobName yet")
		}
		return err
	})
	aj, _ := getAJ(context.Background(), ns, "shown")
	aj.Status.Progress = &asyncjobv1alpha1.Progress{Percent: 45, Step: "transcoding"}
	if err := env.Client.Status().Update(context.Background(), aj); err != nil {
		t.Fatal(err)
	}

	table := getTable(t, "asyncjobs", ns)
	wantColumns := []string{"Name", "Type", "Status", "Progress", "Position", "Age", "Job", "Attempts", "Tenant"}
	var names []string
	var wide []string
	for _, c := range table.ColumnDefinitions {
		names = append(names, c.Name)
		if c.Priority > 0 {
			wide = append(wide, c.Name)
		}
	}
	if diff := cmp.Diff(wantColumns, names); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Job", "Attempts", "Tenant"}, wide); diff != "" {
		t.Errorf("-o wide only columns (-want +got):\n%s", diff)
	}
	if len(table.Rows) != 1 {
		t.Fatalf("rows %d, want 1", len(table.Rows))
	}
	cells := table.Rows[0].Cells
	// Age (index 5) varies; the rest is exact. Integers arrive as JSON numbers.
	got := []any{cells[0], cells[1], cells[2], cells[3], cells[4], cells[6], cells[7], cells[8]}
	want := []any{"shown", jt.Name, "Pending", int64(45), nil, "shown", nil, "acme"} // not queued: POSITION <none>; no pod yet: ATTEMPTS <none>
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}

	// 0% is a value, not an absent one: PROGRESS shows 0, not <none>.
	aj, _ = getAJ(context.Background(), ns, "shown")
	aj.Status.Progress = &asyncjobv1alpha1.Progress{Percent: 0, Step: "starting"}
	if err := env.Client.Status().Update(context.Background(), aj); err != nil {
		t.Fatal(err)
	}
	if got := getTable(t, "asyncjobs", ns).Rows[0].Cells[3]; got != int64(0) {
		t.Errorf("PROGRESS at 0%%: %#v, want 0", got)
	}

	types := getTable(t, "asyncjobtypes", "")
	var typeColumns []string
	for _, c := range types.ColumnDefinitions {
		typeColumns = append(typeColumns, c.Name)
	}
	if diff := cmp.Diff([]string{"Name", "Ready", "Reason", "Description", "Age"}, typeColumns); diff != "" {
		t.Errorf("asyncjobtypes columns (-want +got):\n%s", diff)
	}
	var row []any
	for _, r := range types.Rows {
		if r.Cells[0] == jt.Name {
			row = r.Cells
		}
	}
	if row == nil {
		t.Fatalf("no row for %s in `kubectl get asyncjobtypes`", jt.Name)
	}
	// Age (index 4) varies.
	if diff := cmp.Diff([]any{jt.Name, "True", asyncjobv1alpha1.ReasonValid, "converts media"}, row[:4]); diff != "" {
		t.Errorf("asyncjobtypes row (-want +got):\n%s", diff)
	}
}

func getTable(t *testing.T, resource, ns string) *metav1.Table {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.GroupVersion = &schema.GroupVersion{Group: "asyncjob.io", Version: "v1alpha1"}
	cfg.APIPath = "/apis"
	cfg.NegotiatedSerializer = serializer.WithoutConversionCodecFactory{CodecFactory: serializer.NewCodecFactory(env.Scheme)}
	rc, err := rest.RESTClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req := rc.Get().Resource(resource).SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	if ns != "" {
		req = req.Namespace(ns)
	}
	raw, err := req.DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	table := &metav1.Table{}
	if err := jsonUnmarshalNumbers(raw, table); err != nil {
		t.Fatal(err)
	}
	return table
}
