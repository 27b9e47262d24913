/// The billing engine's due list (`call_billing_due`, kept by triggers on `calls`, migration 0006) checked against
/// the calls themselves.
public enum CallBillingDueList {
    /// Counts the calls the list gets wrong: an active call missing from it or listed at another time than its paid
    /// time, or a listed call that is not active. Zero when the list is right.
    public static let mismatchesSQL = """
        SELECT count(*) FROM calls c LEFT JOIN call_billing_due q ON q.call_id = c.id
        WHERE (c.status = 'active') <> (q.call_id IS NOT NULL) OR (c.status = 'active' AND q.due_at <> c.paid_until)
        """
}
