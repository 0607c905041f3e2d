"""govwx: a platform for government WeChat Official Accounts."""
