// Package secret encrypts and decrypts poolctl pool templates with a
// passphrase, and obtains that passphrase from a file, an environment
// variable or the controlling terminal.
//
// Encrypted templates are ASCII-armored age files (https://age-encryption.org)
// with a single scrypt (passphrase) recipient, so they can be stored and
// copied like any other text file, and only someone who knows the passphrase
// can install them.
package secret

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// ErrWrongPassphrase is returned when an encrypted template cannot be opened
// with the passphrase given.
var ErrWrongPassphrase = errors.New("wrong passphrase")

// ErrNoPassphrase is returned when a passphrase is needed but none can be
// obtained (no terminal and no file/env source).
var ErrNoPassphrase = errors.New("no passphrase")

const (
	// scryptStanza is the age recipient stanza type of passphrase recipients.
	scryptStanza = "scrypt"

	// maxWorkFactor is the largest scrypt work factor age's ScryptIdentity
	// accepts by default, and so the largest Encrypt will write: anything
	// larger could not be opened again by Decrypt.
	maxWorkFactor = 22

	// workFactorEnv names the environment variable read by WorkFactorFromEnv.
	workFactorEnv = "POOLCTL_AGE_WORK_FACTOR"

	// envMinWorkFactor and envMaxWorkFactor bound the values accepted from
	// workFactorEnv.
	envMinWorkFactor = 10
	envMaxWorkFactor = maxWorkFactor
)

// IsEncrypted reports whether data is an ASCII-armored age file (after
// optional leading whitespace): begins with
// "-----BEGIN AGE ENCRYPTED FILE-----".
func IsEncrypted(data []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeftFunc(data, unicode.IsSpace), []byte(armor.Header))
}

// Encrypt encrypts plaintext to an ASCII-armored age file with a scrypt
// (passphrase) recipient; workFactor is the scrypt log2 work factor (0 = the
// age default, 18). Returns the armored bytes ending in a newline.
//
// A workFactor outside 1..22 is an error, because Decrypt (like age itself)
// refuses files with a work factor above 22. An empty passphrase is an error.
func Encrypt(plaintext []byte, passphrase string, workFactor int) ([]byte, error) {
	if workFactor < 0 || workFactor > maxWorkFactor {
		return nil, fmt.Errorf("encrypting template: scrypt work factor %d out of range 1..%d (0 for the default)", workFactor, maxWorkFactor)
	}
	recipient, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return nil, fmt.Errorf("encrypting template: %w", err)
	}
	if workFactor != 0 {
		recipient.SetWorkFactor(workFactor)
	}

	var out bytes.Buffer
	armorWriter := armor.NewWriter(&out)
	// The scrypt recipient must be the only recipient of the file.
	ageWriter, err := age.Encrypt(armorWriter, recipient)
	if err != nil {
		return nil, fmt.Errorf("encrypting template: %w", err)
	}
	if _, err := ageWriter.Write(plaintext); err != nil {
		return nil, fmt.Errorf("encrypting template: %w", err)
	}
	// Close the age writer first so it flushes the last chunk into the
	// armor writer, then close the armor writer to write the footer.
	if err := ageWriter.Close(); err != nil {
		return nil, fmt.Errorf("encrypting template: %w", err)
	}
	if err := armorWriter.Close(); err != nil {
		return nil, fmt.Errorf("encrypting template: armoring: %w", err)
	}
	return out.Bytes(), nil
}

// Decrypt opens an armored age file with the passphrase. A wrong passphrase
// returns an error wrapping ErrWrongPassphrase; malformed input returns a
// different, descriptive error (e.g. "not an age-encrypted template: ...").
//
// Any scrypt work factor up to age's default maximum (22) is accepted.
// Leading whitespace before the armor header is ignored, as in IsEncrypted.
func Decrypt(armored []byte, passphrase string) ([]byte, error) {
	data := bytes.TrimLeftFunc(armored, unicode.IsSpace)
	if !bytes.HasPrefix(data, []byte(armor.Header)) {
		return nil, fmt.Errorf("not an age-encrypted template: missing %q line", armor.Header)
	}
	identity, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, fmt.Errorf("decrypting template: %w", err)
	}

	r, err := age.Decrypt(armor.NewReader(bytes.NewReader(data)), identity)
	if err != nil {
		return nil, classifyDecryptError(err)
	}
	plaintext, err := io.ReadAll(r)
	if err != nil {
		if armorErr := (*armor.Error)(nil); errors.As(err, &armorErr) {
			return nil, fmt.Errorf("not an age-encrypted template: %w", err)
		}
		return nil, fmt.Errorf("encrypted template is damaged: %w", err)
	}
	return plaintext, nil
}

// classifyDecryptError turns an error from age.Decrypt into the error
// Decrypt returns: ErrWrongPassphrase when the passphrase did not open the
// scrypt recipient, a descriptive error otherwise.
func classifyDecryptError(err error) error {
	if noMatch := (*age.NoIdentityMatchError)(nil); errors.As(err, &noMatch) {
		if slices.Contains(noMatch.StanzaTypes, scryptStanza) {
			return fmt.Errorf("cannot open encrypted template: %w", ErrWrongPassphrase)
		}
		return fmt.Errorf("template is not passphrase-encrypted (recipient types: %s): %w",
			strings.Join(noMatch.StanzaTypes, ", "), err)
	}
	if armorErr := (*armor.Error)(nil); errors.As(err, &armorErr) {
		return fmt.Errorf("not an age-encrypted template: %w", err)
	}
	return fmt.Errorf("cannot open encrypted template: %w", err)
}

// WorkFactorFromEnv returns the scrypt work factor from
// $POOLCTL_AGE_WORK_FACTOR (an integer 10..22), or 0 when unset; an invalid
// value is an error naming the variable and the range.
//
// A variable set to the empty string counts as unset.
func WorkFactorFromEnv() (int, error) {
	value := os.Getenv(workFactorEnv)
	if value == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(value)
	if err != nil || n < envMinWorkFactor || n > envMaxWorkFactor {
		return 0, fmt.Errorf("invalid $%s %q: must be an integer from %d to %d",
			workFactorEnv, value, envMinWorkFactor, envMaxWorkFactor)
	}
	return n, nil
}
