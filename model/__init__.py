"""Model pipeline: corpus, tokenizer, BERT, training, export and the decoding engine."""
