"""RQ workers: the jobs Loketlijn runs and the channels they send through."""
