package sign

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// An Envelope is a decoded signature file: the statement it carries and the
// key IDs its signatures name. Nothing in it is verified; see Verify.
type Envelope struct {
	// Statement is the decoded payload.
	Statement Statement
	// KeyIDs are the keyid fields of the signatures, in order; an entry is
	// empty when a signature names no key.
	KeyIDs []string

	dsse    dsse.Envelope
	payload []byte
}

// ParseEnvelope decodes a DSSE envelope (JSON) and the module statement in
// it, checking its shape but no signature: use it to show what a signature
// file claims, and Verify to trust it.
//
// The envelope is the DSSE JSON envelope ({"payloadType", "payload",
// "signatures": [{"keyid", "sig"}]}); unknown fields are refused, the payload
// type must be PayloadType, and every sig must be a base64 ed25519 signature.
//
// # Errors
//
// ErrMalformedEnvelope or ErrMalformedStatement, wrapped with the line and
// column or the field that is wrong.
func ParseEnvelope(data []byte) (*Envelope, error) {
	if len(data) > MaxEnvelopeBytes {
		return nil, fmt.Errorf("%w: %d bytes, above the limit of %d", ErrMalformedEnvelope, len(data), MaxEnvelopeBytes)
	}
	var raw struct {
		PayloadType *string `json:"payloadType"`
		Payload     *string `json:"payload"`
		Signatures  *[]struct {
			KeyID *string `json:"keyid"`
			Sig   *string `json:"sig"`
		} `json:"signatures"`
	}
	if err := decodeStrict(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedEnvelope, err)
	}
	switch {
	case raw.PayloadType == nil:
		return nil, fmt.Errorf("%w: payloadType is missing", ErrMalformedEnvelope)
	case raw.Payload == nil:
		return nil, fmt.Errorf("%w: payload is missing", ErrMalformedEnvelope)
	case raw.Signatures == nil:
		return nil, fmt.Errorf("%w: signatures is missing", ErrMalformedEnvelope)
	}
	if *raw.PayloadType != PayloadType {
		return nil, fmt.Errorf("%w: payloadType is %q, want %q (this is not a wasinfer module signature)", ErrMalformedEnvelope, clip([]byte(*raw.PayloadType)), PayloadType)
	}
	payload, err := decodeBase64(*raw.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrMalformedEnvelope, err)
	}
	// The dsse package reads padded base64 only: hand it a normalized copy.
	e := &Envelope{payload: payload, dsse: dsse.Envelope{
		PayloadType: *raw.PayloadType,
		Payload:     base64.StdEncoding.EncodeToString(payload),
	}}
	sigs := *raw.Signatures
	switch {
	case len(sigs) == 0:
		return nil, fmt.Errorf("%w: signatures is empty (the file was never signed)", ErrMalformedEnvelope)
	case len(sigs) > maxSignatures:
		return nil, fmt.Errorf("%w: %d signatures, above the limit of %d", ErrMalformedEnvelope, len(sigs), maxSignatures)
	}
	for i, s := range sigs {
		if s.Sig == nil {
			return nil, fmt.Errorf("%w: signatures[%d].sig is missing", ErrMalformedEnvelope, i)
		}
		b, err := decodeBase64(*s.Sig)
		if err != nil {
			return nil, fmt.Errorf("%w: signatures[%d].sig: %w", ErrMalformedEnvelope, i, err)
		}
		if len(b) != ed25519.SignatureSize {
			return nil, fmt.Errorf("%w: signatures[%d].sig is %d bytes, want %d (an ed25519 signature)", ErrMalformedEnvelope, i, len(b), ed25519.SignatureSize)
		}
		id := ""
		if s.KeyID != nil {
			id = *s.KeyID
		}
		e.KeyIDs = append(e.KeyIDs, id)
		e.dsse.Signatures = append(e.dsse.Signatures, dsse.Signature{KeyID: id, Sig: base64.StdEncoding.EncodeToString(b)})
	}
	st, err := ParseStatement(payload)
	if err != nil {
		return nil, err
	}
	e.Statement = st
	return e, nil
}

// decodeBase64 accepts standard and URL-safe base64, padded or not, as the
// DSSE envelope spec asks of readers.
func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	_, err := base64.StdEncoding.DecodeString(s)
	return nil, fmt.Errorf("not base64: %w", err)
}
