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
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// writeKubeconfig writes an admin kubeconfig for apiURL, used by the
// components, by tests and by people (`export KUBECONFIG=...`).
func writeKubeconfig(path, apiURL string, creds *credentials) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["localcluster"] = &clientcmdapi.Cluster{
		Server:                   apiURL,
		CertificateAuthorityData: creds.caCertPEM,
	}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: creds.adminToken}
	cfg.Contexts["localcluster"] = &clientcmdapi.Context{Cluster: "localcluster", AuthInfo: "admin"}
	cfg.CurrentContext = "localcluster"
	return clientcmd.WriteToFile(*cfg, path)
}

// restConfig is the admin client configuration, with client-side rate
// limits raised so tests are not throttled by their own client.
func restConfig(apiURL string, creds *credentials) *rest.Config {
	return &rest.Config{
		Host:            apiURL,
		BearerToken:     creds.adminToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: creds.caCertPEM},
		QPS:             100,
		Burst:           200,
	}
}
