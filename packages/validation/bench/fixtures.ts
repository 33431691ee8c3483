// The payloads of the benchmarks: a typical JSON body of 20 fields, nested (an order), and
// the query and response of the HTTP route.
import * as z from 'zod';

export const Address = z.object({
  line1: z.string().min(1).max(200),
  line2: z.string().max(200).optional(),
  city: z.string().min(1).max(100),
  postcode: z.string().min(2).max(12),
  country: z.string().length(2),
});

export const Order = z.object({
  customerId: z.uuid(),
  email: z.email(),
  name: z.string().min(1).max(120),
  phone: z.string().max(30).optional(),
  currency: z.enum(['EUR', 'GBP', 'USD']),
  notes: z.string().max(2000).optional(),
  giftWrap: z.boolean(),
  coupon: z.string().max(40).nullable(),
  shipping: Address,
  billing: Address,
  items: z
    .array(
      z.object({
        sku: z.string().min(1).max(40),
        quantity: z.number().int().min(1).max(100),
        unitPrice: z.number().min(0),
      }),
    )
    .min(1)
    .max(50),
  createdAt: z.iso.datetime(),
});

export const orderBody = {
  customerId: '6f1c8e1a-3c2b-4d5e-9f10-1a2b3c4d5e6f',
  email: 'ada@example.com',
  name: 'Ada Lovelace',
  phone: '+44 20 7946 0958',
  currency: 'GBP',
  notes: 'Leave at the door, please.',
  giftWrap: false,
  coupon: null,
  shipping: { line1: '12 St James Square', city: 'London', postcode: 'SW1Y 4LB', country: 'GB' },
  billing: {
    line1: '12 St James Square',
    line2: 'Flat 2',
    city: 'London',
    postcode: 'SW1Y 4LB',
    country: 'GB',
  },
  items: [
    { sku: 'BOOK-001', quantity: 1, unitPrice: 12.5 },
    { sku: 'PEN-042', quantity: 3, unitPrice: 1.2 },
  ],
  createdAt: '2025-01-01T10:00:00Z',
};

/** The HTTP route's response (config/bench-http.ts expects every contender to answer it). */
export const Hello = z.object({ hello: z.string() });

export const SEARCH_PATH = '/orders?limit=10&offset=20&status=open&tag=a&tag=b';
