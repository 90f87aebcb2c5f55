// Package forstok owns what Forstok sends: the webhook payload types, the
// decoding of its money fields, and the webhook signature check. It knows
// nothing of Accurate or of the rest of the service.
package forstok

import (
	"encoding/json"
	"strconv"
	"time"

	"forstok-accurate-sync/money"
)

// Event is a decoded, validated webhook: exactly one payload field is set,
// the one of its Type (see the table in eventtypes.go).
type Event struct {
	Type      string
	Timestamp time.Time
	Invoice   *Invoice
	Payment   *Payment
	Void      *Void
	Return    *Return
}

// KeyFor builds an idempotency key.
func KeyFor(eventType string, id int64) string {
	return eventType + ":" + strconv.FormatInt(id, 10)
}

// Money is an amount as Forstok writes it: a JSON number or a decimal string.
// Decoding never fails on the value itself; a malformed value is kept as a
// problem that validation reports with the field's JSON path, so that every
// error in a payload is listed at once.
type Money struct {
	money.Amount
	present bool   // the field was in the payload and not null
	problem string // why the value could not be read, for validation to report
}

// Invoice is the data of invoice.created: a Forstok invoice with its order.
type Invoice struct {
	ID               int64     `json:"id" validate:"gt=0"`
	InvoiceReference string    `json:"invoice_reference" validate:"required"`
	Status           string    `json:"status"`
	CreatedAt        time.Time `json:"created_at" validate:"required"`
	Order            *Order    `json:"order" validate:"required"`
}

// Order is the marketplace order behind an invoice.
type Order struct {
	ID             int64           `json:"id" validate:"gt=0"`
	LocalID        string          `json:"local_id"`
	LocalName      string          `json:"local_name" validate:"nonblank,ordernumber"`
	Channel        string          `json:"channel" validate:"required"`
	ChannelID      int64           `json:"channel_id" validate:"gt=0"`
	StoreID        int64           `json:"store_id" validate:"gt=0"`
	StoreName      string          `json:"store_name"`
	WarehouseID    int64           `json:"warehouse_id" validate:"gt=0"`
	WarehouseName  string          `json:"warehouse_name"`
	Cashless       *bool           `json:"cashless" validate:"required"`
	ShippingPrice  Money           `json:"shipping_price" validate:"money"`
	DiscountAmount Money           `json:"discount_amount" validate:"money"`
	OrderedAt      *time.Time      `json:"ordered_at"`
	Address        json.RawMessage `json:"address,omitempty"`
	CustomerInfo   json.RawMessage `json:"customer_info,omitempty"`
	Subtotal       Money           `json:"subtotal" validate:"money"`
	TotalPrice     Money           `json:"total_price" validate:"money"`
	TaxPrice       Money           `json:"tax_price" validate:"money"`
	Note           string          `json:"note"`
	ItemLines      []ItemLine      `json:"item_lines" validate:"required,min=1,max=1000,dive"`
}

// IsCashless reports whether shipping was paid through the marketplace.
func (o *Order) IsCashless() bool { return o.Cashless != nil && *o.Cashless }

// ItemLine is one line of an order; Forstok writes one line per unit sold,
// and Quantity, when present, multiplies it.
type ItemLine struct {
	ID              int64             `json:"id" validate:"gt=0"`
	SKU             string            `json:"sku" validate:"required"`
	Name            string            `json:"name"`
	VariantName     string            `json:"variant_name"`
	Note            string            `json:"note"`
	Price           Money             `json:"price" validate:"required,money"`
	SalePrice       Money             `json:"sale_price" validate:"money"`
	Quantity        *int64            `json:"quantity" validate:"omitnil,gt=0,lte=1000000"`
	VoucherAmount   Money             `json:"voucher_amount" validate:"money"`
	VoucherSeller   Money             `json:"voucher_seller" validate:"money"`
	VoucherPlatform Money             `json:"voucher_platform" validate:"money"`
	TaxPrice        Money             `json:"tax_price" validate:"money"`
	TotalPrice      Money             `json:"total_price" validate:"money"`
	BundleInfo      []BundleComponent `json:"bundle_info" validate:"omitempty,max=100,dive"`
}

// Units is the number of units the line stands for (Quantity, default 1).
func (l ItemLine) Units() int64 {
	if l.Quantity == nil {
		return 1
	}
	return *l.Quantity
}

// UnitPrice is what one unit sold for: SalePrice when positive, else Price.
func (l ItemLine) UnitPrice() money.Amount {
	if l.SalePrice.Amount > 0 {
		return l.SalePrice.Amount
	}
	return l.Price.Amount
}

// BundleComponent is one product inside a bundle line.
type BundleComponent struct {
	SKU       string `json:"sku" validate:"required"`
	Name      string `json:"name"`
	Qty       int64  `json:"qty" validate:"gt=0,lte=1000000"`
	ItemPrice Money  `json:"item_price" validate:"required,money"`
}

// Payment is the data of payment.received: a marketplace payout that settles
// one or more invoices.
type Payment struct {
	ID            int64            `json:"id" validate:"gt=0"`
	Reference     string           `json:"reference"`
	PaymentMethod string           `json:"payment_method"`
	PaidAt        time.Time        `json:"paid_at" validate:"required"`
	StoreID       int64            `json:"store_id" validate:"gt=0"`
	AmountReceive Money            `json:"amount_receive" validate:"required,money"`
	Invoices      []PaymentInvoice `json:"invoices" validate:"required,min=1,max=10000,dive"`
}

// PaymentInvoice is one invoice a payout settles, with the fees, vouchers and
// rebates the marketplace took or added for it.
type PaymentInvoice struct {
	ID                         int64        `json:"id" validate:"gt=0"`
	InvoiceReference           string       `json:"invoice_reference"`
	Order                      PaymentOrder `json:"order" validate:"required"`
	Total                      Money        `json:"total" validate:"money"`
	VoucherSeller              Money        `json:"voucher_seller" validate:"money"`
	ServiceFee                 Money        `json:"service_fee" validate:"money"`
	FulfillmentFee             Money        `json:"fulfillment_fee" validate:"money"`
	CashlessShippingDifference Money        `json:"cashless_shipping_difference" validate:"money"`
	PlatformRebate             Money        `json:"platform_rebate" validate:"money"`
}

// PaymentOrder identifies the order of a paid invoice.
type PaymentOrder struct {
	ID        int64  `json:"id" validate:"gt=0"`
	LocalName string `json:"local_name" validate:"nonblank,ordernumber"`
	StoreID   int64  `json:"store_id"`
}

// Void is the data of invoice.voided: Forstok voided an invoice (the order
// was cancelled), so its faktur must go.
type Void struct {
	ID               int64     `json:"id" validate:"gt=0"`
	InvoiceReference string    `json:"invoice_reference"`
	VoidedAt         time.Time `json:"voided_at" validate:"required"`
	Reason           string    `json:"reason"`
	Order            VoidOrder `json:"order" validate:"required"`
}

// VoidOrder identifies the order of a voided invoice.
type VoidOrder struct {
	ID        int64  `json:"id" validate:"gt=0"`
	LocalName string `json:"local_name" validate:"required,ordernumber"`
	StoreID   int64  `json:"store_id" validate:"gt=0"`
}

// Return is the data of return.created: goods of an order came back.
type Return struct {
	ID              int64        `json:"id" validate:"gt=0"`
	ReturnReference string       `json:"return_reference"`
	ReturnedAt      time.Time    `json:"returned_at" validate:"required"`
	Reason          string       `json:"reason"`
	Order           ReturnOrder  `json:"order" validate:"required"`
	ItemLines       []ReturnLine `json:"item_lines" validate:"required,min=1,dive"`
	ShippingRefund  Money        `json:"shipping_refund" validate:"money"`
}

// ReturnOrder identifies the order goods came back from, and the warehouse
// they came back to.
type ReturnOrder struct {
	ID          int64  `json:"id" validate:"gt=0"`
	LocalName   string `json:"local_name" validate:"required,ordernumber"`
	StoreID     int64  `json:"store_id" validate:"gt=0"`
	WarehouseID int64  `json:"warehouse_id" validate:"gt=0"`
}

// ReturnLine is one order line coming back, in units.
type ReturnLine struct {
	OrderItemLineID int64  `json:"order_item_line_id" validate:"gt=0"`
	SKU             string `json:"sku" validate:"required"`
	Quantity        int64  `json:"quantity" validate:"gt=0"`
}
