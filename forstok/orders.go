package forstok

// OrderNumbers are the marketplace order numbers (order.local_name) an
// event is about, each once, in payload order: the faktur's own number for
// an invoice, a void or a return, every settled invoice's for a payment.
// Operators search by them.
func (e Event) OrderNumbers() []string {
	var out []string
	add := func(no string) {
		if no == "" {
			return
		}
		for _, seen := range out {
			if seen == no {
				return
			}
		}
		out = append(out, no)
	}
	switch {
	case e.Invoice != nil && e.Invoice.Order != nil:
		add(e.Invoice.Order.LocalName)
	case e.Void != nil:
		add(e.Void.Order.LocalName)
	case e.Return != nil:
		add(e.Return.Order.LocalName)
	case e.Payment != nil:
		for _, inv := range e.Payment.Invoices {
			add(inv.Order.LocalName)
		}
	}
	return out
}
