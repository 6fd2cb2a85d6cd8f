"""Training side of credscore: labelled data -> dataset -> model + manifest -> evaluation."""
