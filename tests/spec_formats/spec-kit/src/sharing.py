"""Share links: 002-album-sharing/FR-001 and 002-album-sharing/FR-003."""

# REQ_ID-123 style request ids are not spec IDs here.
def share(album):  # Implements 002-album-sharing/FR-001
    return "link"

def revoke(link):  # FR-003 -- specwright:ignore
    return None
