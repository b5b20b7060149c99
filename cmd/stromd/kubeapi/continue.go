package kubeapi

import (
	"encoding/base64"
	"encoding/json"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// continueToken is a list page's continue parameter: the point of history
// the list was read at and the last key it returned, so the next page is
// read at the same point (a consistent list, as etcd's are).
type continueToken struct {
	Version string `json:"v"`
	Seq     uint64 `json:"rv"`
	Key     string `json:"start"`
}

const continueVersion = "meta.k8s.io/v1"

func encodeContinue(t continueToken) string {
	t.Version = continueVersion
	data, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(data)
}

func decodeContinue(s string) (continueToken, error) {
	var t continueToken
	data, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(data, &t)
	}
	if err != nil || t.Version != continueVersion || t.Seq == 0 || t.Key == "" {
		return t, apierrors.NewBadRequest("continue key is not valid: " + s)
	}
	return t, nil
}
