"""Files at rest and personal data: the encrypted file format and its keys, key rotation,
retention of attachments after their case closes, and export and erasure of one contact."""
