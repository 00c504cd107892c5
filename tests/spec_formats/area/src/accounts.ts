// Implements US-AC-K3M: sign-up.
export function signUp(email: string) { return email; }

// Implements US-AC-P8T
export function resetPassword(email: string) { return email; }

// The REQ-ID-123 header carries the request id. specwright:ignore REQ-ID-123
export const header = "x-request-id";
