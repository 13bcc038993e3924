"""Answering: question analysis (`question`), periods (`timeref`), figures and headlines
(`figures`, `headline`), candidates' features (`features`), retrieval (`retrieve`), scorers
(`scorer`, `trees`, `reader`), answer fit (`fit`), the `Composer` (`compose`), comparisons
(`compare`), follow-ups (`followup`) and metadata questions (`about`)."""
