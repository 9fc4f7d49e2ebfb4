package keys

import (
	schnorrkel "github.com/ChainSafe/go-schnorrkel"
)

var (
	bytesOpen  = []byte("<Bytes>")
	bytesClose = []byte("</Bytes>")
)

// WrapBytes returns "<Bytes>" ‖ msg ‖ "</Bytes>", the wrapping polkadot.js
// extensions apply in signRaw.
func WrapBytes(msg []byte) []byte {
	out := make([]byte, 0, len(bytesOpen)+len(msg)+len(bytesClose))
	out = append(out, bytesOpen...)
	out = append(out, msg...)
	return append(out, bytesClose...)
}

// Verify reports whether sig is a valid sr25519 signature by pub over msg,
// accepting, like the Bittensor SDK's Keypair.verify, either a signature over
// msg itself or one over WrapBytes(msg). Malformed keys and signatures
// (wrong length, missing schnorrkel marker bit, invalid point or scalar)
// give false.
func Verify(pub [32]byte, msg, sig []byte) bool {
	pk, s, ok := decodeForVerify(pub, sig)
	if !ok {
		return false
	}
	if verifyDecoded(pk, s, msg) {
		return true
	}
	return verifyDecoded(pk, s, WrapBytes(msg))
}

// VerifyRaw is Verify without the <Bytes> fallback.
func VerifyRaw(pub [32]byte, msg, sig []byte) bool {
	pk, s, ok := decodeForVerify(pub, sig)
	if !ok {
		return false
	}
	return verifyDecoded(pk, s, msg)
}

func decodeForVerify(pub [32]byte, sig []byte) (*schnorrkel.PublicKey, *schnorrkel.Signature, bool) {
	if len(sig) != SignatureSize {
		return nil, nil, false
	}
	if sig[63]&0x80 == 0 {
		return nil, nil, false
	}
	pk, err := schnorrkel.NewPublicKey(pub)
	if err != nil {
		return nil, nil, false
	}
	var arr [SignatureSize]byte
	copy(arr[:], sig)
	s := new(schnorrkel.Signature)
	if err := s.Decode(arr); err != nil {
		return nil, nil, false
	}
	return pk, s, true
}

func verifyDecoded(pk *schnorrkel.PublicKey, s *schnorrkel.Signature, msg []byte) bool {
	t := schnorrkel.NewSigningContext([]byte(SigningContext), msg)
	ok, err := pk.Verify(s, t)
	return err == nil && ok
}
